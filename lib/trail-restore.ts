/**
 * What restoring a trail writes: the CloudTrail commands the trail rule may send, the actions that put weakened
 * attributes back or re-create a deleted trail from its baseline, and what CloudTrail's refusals ask of a human.
 */
import {
  CloudTrailClient,
  CreateTrailCommand,
  type EventSelector,
  PutEventSelectorsCommand,
  type PutEventSelectorsCommandInput,
  PutInsightSelectorsCommand,
  StartLoggingCommand,
  UpdateTrailCommand,
  type UpdateTrailCommandInput,
} from '@aws-sdk/client-cloudtrail';
import { awsErrorName } from './aws.js';
import { type ActionOf, command, type PermissionDeclaration } from './rule.js';
import { insightTypes, managementCoverage, onOff, type Weakening } from './trail-weakenings.js';
import { createTrailInput, TRAIL_ARNS, type TrailConfig } from './trails.js';

/** Restoring a trail's CloudWatch Logs delivery hands CloudTrail the trail's role. */
const PASS_ROLE_TO_CLOUDTRAIL: PermissionDeclaration = {
  actions: ['iam:PassRole'],
  resource: 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*',
  condition: { StringEquals: { 'iam:PassedToService': 'cloudtrail.amazonaws.com' } },
};

export const TRAIL_COMMANDS = {
  'cloudtrail:CreateTrail': command(CloudTrailClient, CreateTrailCommand, TRAIL_ARNS, {
    // CreateTrail with tags is also authorised as AddTags.
    alsoNeeds: [{ actions: ['cloudtrail:AddTags'], resource: TRAIL_ARNS }, PASS_ROLE_TO_CLOUDTRAIL],
  }),
  'cloudtrail:UpdateTrail': command(CloudTrailClient, UpdateTrailCommand, TRAIL_ARNS, {
    alsoNeeds: [PASS_ROLE_TO_CLOUDTRAIL],
  }),
  'cloudtrail:StartLogging': command(CloudTrailClient, StartLoggingCommand, TRAIL_ARNS),
  'cloudtrail:PutEventSelectors': command(CloudTrailClient, PutEventSelectorsCommand, TRAIL_ARNS),
  'cloudtrail:PutInsightSelectors': command(CloudTrailClient, PutInsightSelectorsCommand, TRAIL_ARNS),
};

export type TrailAction = ActionOf<typeof TRAIL_COMMANDS>;

type AdvancedSelector = NonNullable<TrailConfig['advancedEventSelectors']>[number];

const isManagementSelector = (selector: AdvancedSelector) =>
  (selector.FieldSelectors ?? []).some((f) => f.Field === 'eventCategory' && f.Equals?.includes('Management'));

/** An advanced selector recording management events as `coverage` says. */
function advancedManagementSelector(coverage: ReturnType<typeof managementCoverage>): AdvancedSelector {
  const fields: AdvancedSelector['FieldSelectors'] = [{ Field: 'eventCategory', Equals: ['Management'] }];
  if (coverage.readWrite === 'ReadOnly' || coverage.readWrite === 'WriteOnly') {
    fields.push({ Field: 'readOnly', Equals: [coverage.readWrite === 'ReadOnly' ? 'true' : 'false'] });
  }
  if (coverage.excludedSources.length > 0) fields.push({ Field: 'eventSource', NotEquals: coverage.excludedSources });
  return { Name: 'Management events (restored by driftguard)', FieldSelectors: fields };
}

/**
 * The author's selectors, in the kind they now use (basic or advanced: a trail has one or the other), with the
 * baseline's management-event coverage put back and their data-event selectors kept.
 */
export function restoredSelectors(baseline: TrailConfig, current: TrailConfig): PutEventSelectorsCommandInput {
  const TrailName = current.trailArn;
  const wanted = managementCoverage(baseline);
  const currentIsAdvanced = (current.advancedEventSelectors?.length ?? 0) > 0;
  const baselineIsAdvanced = (baseline.advancedEventSelectors?.length ?? 0) > 0;
  if (currentIsAdvanced || (baselineIsAdvanced && !current.eventSelectors?.length)) {
    const kept = (current.advancedEventSelectors ?? []).filter((s) => !isManagementSelector(s));
    const management = baselineIsAdvanced
      ? (baseline.advancedEventSelectors ?? []).filter(isManagementSelector)
      : [advancedManagementSelector(wanted)];
    return { TrailName, AdvancedEventSelectors: [...management, ...kept] };
  }
  const selectors: EventSelector[] = (current.eventSelectors ?? []).map((s) => ({ ...s }));
  const management = selectors.filter((s) => s.IncludeManagementEvents !== false);
  if (management.length === 0) {
    const selector = selectors[0] ?? { DataResources: [] };
    if (selectors.length === 0) selectors.push(selector);
    management.push(selector);
  }
  for (const selector of management) {
    selector.IncludeManagementEvents = true;
    selector.ReadWriteType = wanted.readWrite === 'None' ? 'All' : wanted.readWrite;
    selector.ExcludeManagementEventSources = (selector.ExcludeManagementEventSources ?? []).filter((source) =>
      wanted.excludedSources.includes(source),
    );
  }
  return { TrailName, EventSelectors: selectors };
}

/** The selectors a configuration has, in its kind (a trail has basic or advanced ones). */
const baselineSelectors = (config: TrailConfig) =>
  config.advancedEventSelectors?.length
    ? { AdvancedEventSelectors: config.advancedEventSelectors }
    : { EventSelectors: config.eventSelectors ?? [] };

export const startLogging = (trail: string, brief: string): TrailAction => ({
  api: 'cloudtrail:StartLogging',
  params: { Name: trail },
  summary: 'logging started',
  brief,
});

/** The weakened attributes put back (and only those): one UpdateTrail, then the selectors, then logging. */
export function restoreActions(baseline: TrailConfig, current: TrailConfig, weakenings: Weakening[]): TrailAction[] {
  const actions: TrailAction[] = [];
  const update: UpdateTrailCommandInput = { Name: current.trailArn };
  const restored: string[] = [];
  for (const { attribute } of weakenings) {
    switch (attribute) {
      case 'isMultiRegionTrail':
        update.IsMultiRegionTrail = true;
        break;
      case 'logFileValidationEnabled':
        update.EnableLogFileValidation = true;
        break;
      case 'includeGlobalServiceEvents':
        update.IncludeGlobalServiceEvents = true;
        break;
      case 'cloudWatchLogs':
        update.CloudWatchLogsLogGroupArn = baseline.cloudWatchLogsLogGroupArn;
        update.CloudWatchLogsRoleArn = baseline.cloudWatchLogsRoleArn;
        break;
      case 'kmsKeyId':
        // No key in the baseline: an empty KmsKeyId takes another account's key off the trail.
        update.KmsKeyId = baseline.kmsKeyId ?? '';
        break;
      case 'snsTopicName':
        update.SnsTopicName = baseline.snsTopicName;
        break;
      case 's3BucketName':
        update.S3BucketName = baseline.s3BucketName;
        break;
      default:
        continue;
    }
    restored.push(attribute);
  }
  if (restored.length > 0) {
    actions.push({
      api: 'cloudtrail:UpdateTrail',
      params: update,
      summary: `${restored.join(', ')} back to the baseline`,
      brief: `${restored.join(', ')} restored`,
    });
  }
  if (weakenings.some((w) => w.attribute === 'dataEvents')) {
    // The data events a trail recorded: its baseline's selectors back whole (management events with them).
    actions.push({
      api: 'cloudtrail:PutEventSelectors',
      params: { TrailName: current.trailArn, ...baselineSelectors(baseline) },
      summary: 'event selectors back to the baseline (data events it recorded were removed)',
      brief: 'data events restored',
    });
  } else if (weakenings.some((w) => w.attribute === 'managementEvents')) {
    actions.push({
      api: 'cloudtrail:PutEventSelectors',
      params: restoredSelectors(baseline, current),
      summary: 'management events back to the baseline (data event selectors kept)',
      brief: 'management events restored',
    });
  }
  if (weakenings.some((w) => w.attribute === 'insightSelectors')) {
    const types = [...new Set([...insightTypes(current), ...insightTypes(baseline)])];
    actions.push({
      api: 'cloudtrail:PutInsightSelectors',
      params: { TrailName: current.trailArn, InsightSelectors: types.map((InsightType) => ({ InsightType })) },
      summary: `insight selectors ${types.join(', ')} (the baseline's put back, the others kept)`,
      brief: 'insights restored',
    });
  }
  if (weakenings.some((w) => w.attribute === 'logging'))
    actions.push(startLogging(current.trailArn, 'logging started'));
  return actions;
}

/** A deleted trail re-created exactly as its baseline says: the trail, its selectors, its insights, its logging. */
export function recreateActions(config: TrailConfig): TrailAction[] {
  const actions: TrailAction[] = [
    {
      api: 'cloudtrail:CreateTrail',
      params: createTrailInput(config),
      summary: `trail ${config.name} re-created (bucket ${config.s3BucketName}, multi-region ${onOff(config.isMultiRegionTrail)}, validation ${onOff(config.logFileValidationEnabled)}, ${config.tags.length} tags)`,
      brief: 're-created',
    },
  ];
  actions.push({
    api: 'cloudtrail:PutEventSelectors',
    params: { TrailName: config.name, ...baselineSelectors(config) },
    summary: 'event selectors as in the baseline',
    brief: '',
  });
  if (config.insightSelectors.length > 0) {
    actions.push({
      api: 'cloudtrail:PutInsightSelectors',
      params: { TrailName: config.name, InsightSelectors: config.insightSelectors },
      summary: `insight selectors ${config.insightSelectors.map((s) => s.InsightType).join(', ')}`,
      brief: '',
    });
  }
  // The subject of a re-creation reads "re-created, logging".
  if (config.isLogging) actions.push(startLogging(config.name, 'logging'));
  return actions;
}

/** The bucket and key a write names (CreateTrail and UpdateTrail may; the other writes act on the trail as it is). */
function namedDestinations(action: TrailAction): { bucket?: string; key?: string } {
  switch (action.api) {
    case 'cloudtrail:CreateTrail':
    case 'cloudtrail:UpdateTrail':
      return { bucket: action.params.S3BucketName, key: action.params.KmsKeyId };
    default:
      return {};
  }
}

/** CloudTrail's refusals that a human must resolve: what to do about each. */
export function explainTrailFailure(action: TrailAction, error: unknown): string | undefined {
  const named = namedDestinations(action);
  const bucket = named.bucket ?? "(the trail's bucket)";
  const key = named.key ? ` ${named.key}` : '';
  switch (awsErrorName(error)) {
    case 'S3BucketDoesNotExistException':
      return `The trail's S3 bucket ${bucket} is gone: create it with CloudTrail's bucket policy (or choose another bucket), then restore the trail.`;
    case 'InsufficientS3BucketPolicyException':
      return `The S3 bucket ${bucket} refuses CloudTrail: its bucket policy must let cloudtrail.amazonaws.com call s3:GetBucketAcl and s3:PutObject; fix it, then restore the trail.`;
    case 'InsufficientEncryptionPolicyException':
    case 'KmsKeyNotFoundException':
    case 'KmsKeyDisabledException':
      return `CloudTrail cannot use the trail's KMS key${key} (${awsErrorName(error)}): enable the key and allow cloudtrail.amazonaws.com in its policy, then restore the trail.`;
    case 'InsufficientSnsTopicPolicyException':
      return `The trail's SNS topic refuses CloudTrail: fix its topic policy, then restore the trail.`;
    default:
      return undefined;
  }
}
