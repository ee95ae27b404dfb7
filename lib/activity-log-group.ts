/**
 * The activity log group: the CloudWatch Logs group the account's activity trail delivers to, where the 14 filters and
 * alarms of lib/activity-controls.ts live (and the alarm notices read). The trail is DRIFTGUARD_ACTIVITY_TRAIL (name or
 * ARN), else the multi-region trail homed in the home region (one logging all management events first, then one that
 * delivers to a log group, then by name; a second qualifying trail is reported as a rival, not silently chosen).
 */
import { CloudTrailClient, DescribeTrailsCommand, type Trail } from '@aws-sdk/client-cloudtrail';
import { type AwsClients, homeRegion } from './aws.js';
import type { Settings } from './settings.js';
import { readTrail, type TrailConfig, trailReference } from './trails.js';

const LOG_GROUP_ARN = /^arn:aws[a-z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([^:]+)(:\*)?$/;

/** A log group ARN's name and region (CloudTrail stores arn:...:log-group:<name>:*), or undefined when not one. */
export function logGroupOfArn(arn: string): { name: string; region: string; account: string } | undefined {
  const match = LOG_GROUP_ARN.exec(arn);
  return match?.[1] && match[2] && match[3] ? { name: match[3], region: match[1], account: match[2] } : undefined;
}

/** The ARN CloudTrail takes for a log group (CloudWatchLogsLogGroupArn ends in :*). */
export function trailLogGroupArn(partition: string, region: string, account: string, name: string): string {
  return `arn:${partition}:logs:${region}:${account}:log-group:${name}:*`;
}

/**
 * The stack's activity log group, for a trail that delivers to none: /driftguard/<stage>/activity in a deployed
 * stack, /driftguard/activity locally. Its delivery role (DRIFTGUARD_ACTIVITY_DELIVERY_ROLE_ARN) is the stack's.
 */
export function stackActivityLogGroupName(stage: string | undefined): string {
  return stage === undefined ? '/driftguard/activity' : `/driftguard/${stage}/activity`;
}

/** The trail and where it delivers, as the activity alarms see it. */
export interface ActivityTrail {
  trail: TrailConfig;
  /** The log group it delivers to, undefined when it delivers to none. */
  logGroup: { name: string; region: string; arn: string } | undefined;
  /**
   * Default pick only: the names of the other trails that qualify as well (multi-region, homed here, logging all
   * management events, delivering to a log group). More than one is ambiguous: the engine cannot tell the account's
   * trail from a decoy, and asks for DRIFTGUARD_ACTIVITY_TRAIL. Absent when the setting names the trail.
   */
  rivals?: string[];
}

export function activityTrailOf(trail: TrailConfig): ActivityTrail {
  const arn = trail.cloudWatchLogsLogGroupArn;
  const parsed = arn === undefined ? undefined : logGroupOfArn(arn);
  return { trail, logGroup: arn && parsed ? { name: parsed.name, region: parsed.region, arn } : undefined };
}

/**
 * Which of the home region's trails is the default activity trail: a multi-region trail homed there, those that
 * deliver to a log group first, then by name (pure, so that the sweep and the guards agree).
 */
export function pickActivityTrail(trails: readonly Trail[], region: string): Trail | undefined {
  return trails
    .filter((trail) => trail.IsMultiRegionTrail === true && (trail.HomeRegion ?? region) === region && trail.Name)
    .sort(
      (a, b) =>
        Number(!a.CloudWatchLogsLogGroupArn) - Number(!b.CloudWatchLogsLogGroupArn) ||
        (a.Name ?? '').localeCompare(b.Name ?? ''),
    )[0];
}

/**
 * Whether a trail records every management event, read and write, of every service: the 14 patterns need them all. An
 * event selector with management events and ReadWriteType All, or an advanced selector on eventCategory Management
 * and nothing else (a readOnly or eventSource condition drops calls the alarms count).
 */
export function logsAllManagementEvents(
  trail: Pick<TrailConfig, 'eventSelectors' | 'advancedEventSelectors'>,
): boolean {
  if (trail.advancedEventSelectors?.length) {
    return trail.advancedEventSelectors.some((selector) => {
      const fields = selector.FieldSelectors ?? [];
      return (
        fields.length === 1 &&
        fields[0]?.Field === 'eventCategory' &&
        fields[0].Equals?.length === 1 &&
        fields[0].Equals[0] === 'Management'
      );
    });
  }
  return (trail.eventSelectors ?? []).some(
    (selector) =>
      selector.IncludeManagementEvents !== false &&
      (selector.ReadWriteType ?? 'All') === 'All' &&
      (selector.ExcludeManagementEventSources ?? []).length === 0,
  );
}

/** A trail the default pick may take: logging, and recording every management event. */
export function qualifiesAsActivityTrail(trail: TrailConfig): boolean {
  return trail.isLogging && logsAllManagementEvents(trail);
}

/**
 * The default activity trail among the candidates' present configurations: those that qualify (logging, all
 * management events) first, then pickActivityTrail's order. A decoy that is not logging, or records no management
 * events, never wins over the account's trail; a qualifying rival is reported (rivals) rather than silently chosen.
 */
export function chooseActivityTrail(configs: readonly TrailConfig[], region: string): ActivityTrail | undefined {
  const asTrail = (config: TrailConfig): Trail => ({
    Name: config.name,
    IsMultiRegionTrail: config.isMultiRegionTrail,
    HomeRegion: config.homeRegion,
    ...(config.cloudWatchLogsLogGroupArn ? { CloudWatchLogsLogGroupArn: config.cloudWatchLogsLogGroupArn } : {}),
  });
  const qualified = configs.filter(qualifiesAsActivityTrail);
  const pool = qualified.length > 0 ? qualified : configs;
  const picked = pickActivityTrail(pool.map(asTrail), region);
  const config = pool.find((candidate) => candidate.name === picked?.Name);
  if (config === undefined) return undefined;
  const rivals = qualified
    .filter((other) => other.name !== config.name && other.cloudWatchLogsLogGroupArn !== undefined)
    .map((other) => other.name);
  return { ...activityTrailOf(config), ...(rivals.length ? { rivals } : {}) };
}

/** The activity trail as it is now, or undefined when there is none (the setting names a trail that is gone, or none). */
export async function findActivityTrail(
  aws: AwsClients,
  settings: Pick<Settings, 'activityTrail'>,
  region: string = homeRegion(),
): Promise<ActivityTrail | undefined> {
  if (settings.activityTrail !== undefined) {
    const ref = trailReference(settings.activityTrail, region);
    const trail = await readTrail(aws, ref.name, ref.region);
    return trail ? activityTrailOf(trail) : undefined;
  }
  const { trailList = [] } = await aws
    .client(CloudTrailClient, region)
    .send(new DescribeTrailsCommand({ includeShadowTrails: false }));
  const candidates = trailList.filter(
    (trail) => trail.IsMultiRegionTrail === true && (trail.HomeRegion ?? region) === region && trail.Name,
  );
  const configs = await Promise.all(candidates.map((trail) => readTrail(aws, trail.Name ?? '', region)));
  return chooseActivityTrail(
    configs.filter((config): config is TrailConfig => config !== undefined),
    region,
  );
}
