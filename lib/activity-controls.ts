/**
 * Security Hub's CloudWatch.1-14 (CIS AWS Foundations benchmark) as data: for each control the metric filter the
 * engine keeps on the activity log group (exactly the pattern Security Hub publishes: it accepts no extra terms), the
 * metric it counts into, and the alarm on that metric that notifies the notice topic. Pure data and pure helpers.
 *
 * Patterns: Security Hub user guide, "CloudWatch controls" (securityhub/latest/userguide/cloudwatch-controls), the
 * current text; CloudWatch.3 carries the 2023 terms `$.userIdentity.type = "IAMUser"` and
 * `$.responseElements.ConsoleLogin = "Success"`.
 */

export interface ActivityControl {
  /** Security Hub control id, CloudWatch.1 .. CloudWatch.14. */
  id: string;
  title: string;
  /** The metric the filter counts into (in ACTIVITY_METRIC_NAMESPACE) and the alarm watches. */
  metricName: string;
  /** The filter pattern, character for character as Security Hub publishes it. */
  pattern: string;
}

/** The one namespace of the 14 metrics. */
export const ACTIVITY_METRIC_NAMESPACE = 'driftguard/activity';

export const ACTIVITY_CONTROLS: readonly ActivityControl[] = [
  {
    id: 'CloudWatch.1',
    title: 'usage of the "root" user',
    metricName: 'RootAccountUsage',
    pattern: '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
  },
  {
    id: 'CloudWatch.2',
    title: 'unauthorized API calls',
    metricName: 'UnauthorizedAPICalls',
    pattern: '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
  },
  {
    id: 'CloudWatch.3',
    title: 'Management Console sign-in without MFA',
    metricName: 'ConsoleSigninWithoutMFA',
    pattern:
      '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
  },
  {
    id: 'CloudWatch.4',
    title: 'IAM policy changes',
    metricName: 'IAMPolicyChanges',
    pattern:
      '{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}',
  },
  {
    id: 'CloudWatch.5',
    title: 'CloudTrail configuration changes',
    metricName: 'CloudTrailChanges',
    pattern:
      '{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}',
  },
  {
    id: 'CloudWatch.6',
    title: 'Management Console authentication failures',
    metricName: 'ConsoleAuthenticationFailure',
    pattern: '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
  },
  {
    id: 'CloudWatch.7',
    title: 'disabling or scheduled deletion of customer managed keys',
    metricName: 'DisableOrDeleteCMK',
    pattern: '{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}',
  },
  {
    id: 'CloudWatch.8',
    title: 'S3 bucket policy changes',
    metricName: 'S3BucketPolicyChanges',
    pattern:
      '{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}',
  },
  {
    id: 'CloudWatch.9',
    title: 'AWS Config configuration changes',
    metricName: 'AWSConfigChanges',
    pattern:
      '{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}',
  },
  {
    id: 'CloudWatch.10',
    title: 'security group changes',
    metricName: 'SecurityGroupChanges',
    pattern:
      '{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}',
  },
  {
    id: 'CloudWatch.11',
    title: 'changes to network access control lists (NACL)',
    metricName: 'NetworkACLChanges',
    pattern:
      '{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}',
  },
  {
    id: 'CloudWatch.12',
    title: 'changes to network gateways',
    metricName: 'NetworkGatewayChanges',
    pattern:
      '{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}',
  },
  {
    id: 'CloudWatch.13',
    title: 'route table changes',
    metricName: 'RouteTableChanges',
    pattern:
      '{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}',
  },
  {
    id: 'CloudWatch.14',
    title: 'VPC changes',
    metricName: 'VPCChanges',
    pattern:
      '{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}',
  },
];

/**
 * Each alarm: Maximum >= 1 over one period of 300 s, missing data not breaching, the notice topic on ALARM (and no OK
 * or insufficient-data action), enabled. Maximum, not the Sum the CIS text shows: anyone with cloudwatch:PutMetricData
 * can publish -1e9 into the namespace (or add a filter whose metricValue is negative), which drags a Sum below 1 for
 * every period and silences the alarm; nothing published can lower the Maximum of a period in which the filter
 * counted 1, so a matching record still trips the alarm. (Security Hub's CloudWatch.1-14 check the filter, the alarm on
 * its metric and the topic's subscriber, not the statistic.)
 */
export const ACTIVITY_ALARM_SETTINGS = {
  statistic: 'Maximum',
  period: 300,
  evaluationPeriods: 1,
  threshold: 1,
  comparisonOperator: 'GreaterThanOrEqualToThreshold',
  treatMissingData: 'notBreaching',
  /** What the filter adds to the metric per matching record. */
  metricValue: '1',
} as const;

/**
 * The engine's name for a control's metric filter and its alarm (the same name): driftguard-<stage>-CloudWatch.1 in a
 * deployed stack (DRIFTGUARD_STAGE), driftguard-CloudWatch.1 locally (like the local forwarder, driftguard-forward).
 */
export function activityResourceName(control: Pick<ActivityControl, 'id'>, stage: string | undefined): string {
  return stage === undefined ? `driftguard-${control.id}` : `driftguard-${stage}-${control.id}`;
}

/** The control whose engine filter or alarm has this exact name, or undefined (a name the engine does not own). */
export function controlByResourceName(name: string, stage: string | undefined): ActivityControl | undefined {
  return ACTIVITY_CONTROLS.find((control) => activityResourceName(control, stage) === name);
}

export function controlById(id: string): ActivityControl | undefined {
  return ACTIVITY_CONTROLS.find((control) => control.id === id);
}

/** The control whose metric (namespace and name) an alarm watches, or undefined. */
export function controlByMetric(namespace: string, metricName: string): ActivityControl | undefined {
  if (namespace !== ACTIVITY_METRIC_NAMESPACE) return undefined;
  return ACTIVITY_CONTROLS.find((control) => control.metricName === metricName);
}

/** PutMetricFilter's input for a control's filter on the activity log group. */
export function desiredMetricFilter(control: ActivityControl, stage: string | undefined, logGroupName: string) {
  return {
    logGroupName,
    filterName: activityResourceName(control, stage),
    filterPattern: control.pattern,
    metricTransformations: [
      {
        metricName: control.metricName,
        metricNamespace: ACTIVITY_METRIC_NAMESPACE,
        metricValue: ACTIVITY_ALARM_SETTINGS.metricValue,
      },
    ],
  };
}

/** PutMetricAlarm's input for a control's alarm, notifying the topic. */
export function desiredAlarm(control: ActivityControl, stage: string | undefined, topicArn: string) {
  const s = ACTIVITY_ALARM_SETTINGS;
  return {
    AlarmName: activityResourceName(control, stage),
    AlarmDescription: `driftguard: [${control.id}] ${control.title} (kept in place by the activity-alarms rule)`,
    Namespace: ACTIVITY_METRIC_NAMESPACE,
    MetricName: control.metricName,
    Statistic: s.statistic,
    Period: s.period,
    EvaluationPeriods: s.evaluationPeriods,
    Threshold: s.threshold,
    ComparisonOperator: s.comparisonOperator,
    TreatMissingData: s.treatMissingData,
    ActionsEnabled: true,
    AlarmActions: [topicArn],
    OKActions: [],
    InsufficientDataActions: [],
  };
}
