import type { Guard, GuardDeployment } from '../guard.js';
import { activityAlarms, activityAlarmsCloudwatch } from '../rules/activity-alarms.js';

/**
 * The stack's activity log group (for a trail that delivers to none) and the role CloudTrail assumes to deliver to it:
 * encrypted with the stack's key, retained; the role may write log streams of that one group only, and only
 * CloudTrail acting for this account's trails may assume it.
 */
function activityResources({ stage }: { stage: string }): Record<string, unknown> {
  const groupName = `/driftguard/${stage}/activity`;
  return {
    ActivityLogGroup: {
      Type: 'AWS::Logs::LogGroup',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        LogGroupName: groupName,
        KmsKeyId: { 'Fn::GetAtt': ['LogKey', 'Arn'] },
        RetentionInDays: 365,
      },
    },
    ActivityDeliveryRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: `driftguard-${stage}-activity-delivery`,
        Description: `driftguard ${stage}: CloudTrail delivers the activity trail's events to ${groupName}`,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'cloudtrail.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: {
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                ArnLike: {
                  'aws:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*' },
                },
              },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'deliver-to-activity-log-group',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  Resource: {
                    'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${groupName}:log-stream:*`,
                  },
                },
              ],
            },
          },
        ],
      },
    },
  };
}

export const activityGuard: Guard = {
  functionKey: 'activityGuard',
  file: 'activity-guard',
  rules: [activityAlarms, activityAlarmsCloudwatch],
};

export const activityGuardDeployment: GuardDeployment = {
  description:
    'Keeps the CloudWatch.1-14 metric filters and alarms on the activity trail log group, notifying the topic',
  environment: {
    DRIFTGUARD_ACTIVITY_LOG_GROUP: { Ref: 'ActivityLogGroup' },
    DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN: { 'Fn::GetAtt': ['ActivityDeliveryRole', 'Arn'] },
  },
  resources: activityResources,
};
