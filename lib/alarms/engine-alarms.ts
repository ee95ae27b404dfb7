/**
 * The engine's 14 activity alarms (CloudWatch.1-14) as the alarm notice knows them: control, exact alarm name for the
 * stage, metric, and the control's published filter pattern; and where the activity log group is.
 *
 * INTERIM until lib/activity-controls.ts (branch activity-alarms) lands: then the table below is replaced by its
 * controls, names and lookup, and this file only adapts them.
 */
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { type AwsClients, homeRegion } from '../aws.js';
import type { Severity } from '../rule.js';
import type { Settings } from '../settings.js';
import type { ActivityAlarm } from './alarm-notice.js';
import type { AlarmNoticeDefaults } from './alarm-notice-handler.js';

export const ACTIVITY_NAMESPACE_OF_ALARMS = 'driftguard';

const events = (names: string[]) => names.map((name) => `($.eventName=${name})`).join(' || ');

const CONTROLS: [string, string, string, Severity, string][] = [
  [
    'CloudWatch.1',
    'RootAccountUsage',
    'usage of the root user',
    'high',
    '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
  ],
  [
    'CloudWatch.2',
    'UnauthorizedAPICalls',
    'unauthorized API calls',
    'medium',
    '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
  ],
  [
    'CloudWatch.3',
    'ConsoleSigninWithoutMFA',
    'console sign-in without MFA',
    'high',
    '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
  ],
  [
    'CloudWatch.4',
    'IAMPolicyChanges',
    'IAM policy changes',
    'medium',
    `{${events(['DeleteGroupPolicy', 'DeleteRolePolicy', 'DeleteUserPolicy', 'PutGroupPolicy', 'PutRolePolicy', 'PutUserPolicy', 'CreatePolicy', 'DeletePolicy', 'CreatePolicyVersion', 'DeletePolicyVersion', 'AttachRolePolicy', 'DetachRolePolicy', 'AttachUserPolicy', 'DetachUserPolicy', 'AttachGroupPolicy', 'DetachGroupPolicy'])}}`,
  ],
  [
    'CloudWatch.5',
    'CloudTrailChanges',
    'CloudTrail configuration changes',
    'high',
    `{${events(['CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging', 'StopLogging'])}}`,
  ],
  [
    'CloudWatch.6',
    'ConsoleAuthenticationFailure',
    'console authentication failures',
    'medium',
    '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
  ],
  [
    'CloudWatch.7',
    'DisableOrDeleteCMK',
    'disabling or scheduled deletion of customer managed keys',
    'high',
    '{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}',
  ],
  [
    'CloudWatch.8',
    'S3BucketPolicyChanges',
    'S3 bucket policy changes',
    'medium',
    `{($.eventSource=s3.amazonaws.com) && (${events(['PutBucketAcl', 'PutBucketPolicy', 'PutBucketCors', 'PutBucketLifecycle', 'PutBucketReplication', 'DeleteBucketPolicy', 'DeleteBucketCors', 'DeleteBucketLifecycle', 'DeleteBucketReplication'])})}`,
  ],
  [
    'CloudWatch.9',
    'AWSConfigChanges',
    'AWS Config configuration changes',
    'medium',
    `{($.eventSource=config.amazonaws.com) && (${events(['StopConfigurationRecorder', 'DeleteDeliveryChannel', 'PutDeliveryChannel', 'PutConfigurationRecorder'])})}`,
  ],
  [
    'CloudWatch.10',
    'SecurityGroupChanges',
    'security group changes',
    'medium',
    `{${events(['AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress', 'CreateSecurityGroup', 'DeleteSecurityGroup'])}}`,
  ],
  [
    'CloudWatch.11',
    'NetworkACLChanges',
    'network ACL changes',
    'medium',
    `{${events(['CreateNetworkAcl', 'CreateNetworkAclEntry', 'DeleteNetworkAcl', 'DeleteNetworkAclEntry', 'ReplaceNetworkAclEntry', 'ReplaceNetworkAclAssociation'])}}`,
  ],
  [
    'CloudWatch.12',
    'NetworkGatewayChanges',
    'network gateway changes',
    'medium',
    `{${events(['CreateCustomerGateway', 'DeleteCustomerGateway', 'AttachInternetGateway', 'CreateInternetGateway', 'DeleteInternetGateway', 'DetachInternetGateway'])}}`,
  ],
  [
    'CloudWatch.13',
    'RouteTableChanges',
    'route table changes',
    'medium',
    `{($.eventSource=ec2.amazonaws.com) && (${events(['CreateRoute', 'CreateRouteTable', 'ReplaceRoute', 'ReplaceRouteTableAssociation', 'DeleteRouteTable', 'DeleteRoute', 'DisassociateRouteTable'])})}`,
  ],
  [
    'CloudWatch.14',
    'VPCChanges',
    'VPC changes',
    'medium',
    `{${events(['CreateVpc', 'DeleteVpc', 'ModifyVpcAttribute', 'AcceptVpcPeeringConnection', 'CreateVpcPeeringConnection', 'DeleteVpcPeeringConnection', 'RejectVpcPeeringConnection', 'AttachClassicLinkVpc', 'DetachClassicLinkVpc', 'DisableVpcClassicLink', 'EnableVpcClassicLink'])}}`,
  ],
];

/** The activity alarms of a stage (the emulator plays the dev stack). */
export function engineActivityAlarms(stage: string): ActivityAlarm[] {
  return CONTROLS.map(([control, metricName, title, severity, filterPattern]) => ({
    control,
    title,
    severity,
    metricName,
    namespace: ACTIVITY_NAMESPACE_OF_ALARMS,
    alarmName: `driftguard-${stage}-${metricName}`,
    filterPattern,
  }));
}

export const ACTIVITY_ALARMS = engineActivityAlarms('dev');

export function activityAlarmFor(control: string): ActivityAlarm {
  const alarm = ACTIVITY_ALARMS.find((candidate) => candidate.control === control);
  if (!alarm) throw new Error(`no activity alarm for ${control}`);
  return alarm;
}

/**
 * The configured activity group (the stack sets it, and its role may read that group alone); unset (the replay), the
 * group of the home region's multi-region trail (DescribeTrails).
 */
function activityLogGroup(settings: Settings, aws: AwsClients) {
  return async (region: string): Promise<string | undefined> => {
    if (settings.activityLogGroup) return settings.activityLogGroup;
    const { trailList = [] } = await aws.client(CloudTrailClient, region).send(new DescribeTrailsCommand({}));
    const trail = trailList.find((candidate) => candidate.IsMultiRegionTrail && candidate.HomeRegion === homeRegion());
    return trail?.CloudWatchLogsLogGroupArn?.match(/:log-group:([^:]+)/)?.[1];
  };
}

export const ALARM_NOTICE_DEFAULTS: AlarmNoticeDefaults = {
  alarms: () => engineActivityAlarms(process.env.DRIFTGUARD_STAGE?.trim() || 'dev'),
  activityLogGroup,
};
