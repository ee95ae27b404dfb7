import {
  DescribePublishingDestinationCommand,
  GetAdministratorAccountCommand,
  GetDetectorCommand,
  GetFilterCommand,
  GetIPSetCommand,
  GuardDutyClient,
  ListDetectorsCommand,
  ListFiltersCommand,
  ListIPSetsCommand,
  ListPublishingDestinationsCommand,
} from '@aws-sdk/client-guardduty';
import { type AwsClients, awsErrorName } from './aws.js';
import { shellWord } from './notices.js';
import { registerRecordKeeper } from './records.js';
import { RegionBaselineStore } from './region-baselines.js';
import type { Finding, RuleContext } from './rule.js';

/** How often GuardDuty publishes updated findings, from the shortest (most frequent) to the longest. */
export const PUBLISHING_FREQUENCIES = ['FIFTEEN_MINUTES', 'ONE_HOUR', 'SIX_HOURS'] as const;

export interface FilterConfig {
  name: string;
  /** NOOP or ARCHIVE (an ARCHIVE filter is a suppression rule: its findings are archived on arrival). */
  action: string;
  rank?: number;
  description?: string;
  /** GuardDuty's FindingCriteria, as GetFilter returns it (re-sent as it was by a restore). */
  findingCriteria?: Record<string, unknown>;
}

export interface DestinationConfig {
  destinationType: string;
  destinationArn: string;
  kmsKeyArn: string;
}

export interface IpSetConfig {
  id: string;
  name: string;
  status: string;
  location: string;
}

export interface DetectorConfig {
  detectorId: string;
  enabled: boolean;
  findingPublishingFrequency: string;
  /** Feature name -> ENABLED / DISABLED (top-level status only). */
  features: Record<string, string>;
  tags: Record<string, string>;
  filters: FilterConfig[];
  destinations: DestinationConfig[];
  /** Trusted IP lists (GuardDuty makes no findings for their addresses while ACTIVE). */
  trustedIpSets: IpSetConfig[];
  /** The administrator account the detector reports to, if any. */
  administrator?: string;
}

export interface GuardDutyBaseline {
  region: string;
  config: DetectorConfig;
  capturedAt: string;
  /** The event id it was captured from, or "deploy", "sweep", "replay". */
  capturedFrom: string;
}

const gd = (aws: AwsClients, region: string) => aws.client(GuardDutyClient, region);

/** The region's detector id (AWS allows one per account and region), or undefined when GuardDuty is off there. */
export async function detectorIdIn(aws: AwsClients, region: string): Promise<string | undefined> {
  const { DetectorIds = [] } = await gd(aws, region).send(new ListDetectorsCommand({}));
  return DetectorIds[0];
}

async function listAll<T>(page: (token: string | undefined) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const { items, next } = await page(token);
    all.push(...items);
    token = next;
  } while (token);
  return all;
}

/** Reads the region's detector in full; undefined when the region has none (or it went meanwhile). */
export async function readDetector(aws: AwsClients, region: string): Promise<DetectorConfig | undefined> {
  const client = gd(aws, region);
  const detectorId = await detectorIdIn(aws, region);
  if (detectorId === undefined) return undefined;
  try {
    const detector = await client.send(new GetDetectorCommand({ DetectorId: detectorId }));
    const filterNames = await listAll(async (NextToken) => {
      const page = await client.send(new ListFiltersCommand({ DetectorId: detectorId, NextToken }));
      return { items: page.FilterNames ?? [], next: page.NextToken };
    });
    const filters: FilterConfig[] = [];
    for (const name of filterNames) {
      const filter = await client.send(new GetFilterCommand({ DetectorId: detectorId, FilterName: name }));
      filters.push({
        name,
        action: filter.Action ?? 'NOOP',
        ...(filter.Rank !== undefined ? { rank: filter.Rank } : {}),
        ...(filter.Description ? { description: filter.Description } : {}),
        ...(filter.FindingCriteria ? { findingCriteria: filter.FindingCriteria as Record<string, unknown> } : {}),
      });
    }
    const destinationIds = await listAll(async (NextToken) => {
      const page = await client.send(new ListPublishingDestinationsCommand({ DetectorId: detectorId, NextToken }));
      return {
        items: (page.Destinations ?? []).flatMap((d) => (d.DestinationId ? [d.DestinationId] : [])),
        next: page.NextToken,
      };
    });
    const destinations: DestinationConfig[] = [];
    for (const id of destinationIds) {
      const d = await client.send(
        new DescribePublishingDestinationCommand({ DetectorId: detectorId, DestinationId: id }),
      );
      const { DestinationArn, KmsKeyArn } = d.DestinationProperties ?? {};
      if (d.DestinationType && DestinationArn && KmsKeyArn)
        destinations.push({ destinationType: d.DestinationType, destinationArn: DestinationArn, kmsKeyArn: KmsKeyArn });
    }
    const ipSetIds = await listAll(async (NextToken) => {
      const page = await client.send(new ListIPSetsCommand({ DetectorId: detectorId, NextToken }));
      return { items: page.IpSetIds ?? [], next: page.NextToken };
    });
    const trustedIpSets: IpSetConfig[] = [];
    for (const id of ipSetIds) {
      const set = await client.send(new GetIPSetCommand({ DetectorId: detectorId, IpSetId: id }));
      trustedIpSets.push({ id, name: set.Name ?? id, status: set.Status ?? 'UNKNOWN', location: set.Location ?? '' });
    }
    const { Administrator } = await client.send(new GetAdministratorAccountCommand({ DetectorId: detectorId }));
    const features = Object.fromEntries(
      (detector.Features ?? []).flatMap((f) => (f.Name && f.Status ? [[f.Name, f.Status]] : [])),
    );
    return {
      detectorId,
      enabled: detector.Status === 'ENABLED',
      findingPublishingFrequency: detector.FindingPublishingFrequency ?? 'SIX_HOURS',
      features,
      tags: detector.Tags ?? {},
      filters,
      destinations,
      trustedIpSets,
      ...(Administrator?.AccountId && Administrator.RelationshipStatus !== 'Removed'
        ? { administrator: Administrator.AccountId }
        : {}),
    };
  } catch (error) {
    // Deleted between the listing and the reads: the region has no detector.
    if (awsErrorName(error) === 'BadRequestException' && /detectorId is not owned/.test((error as Error).message))
      return undefined;
    throw error;
  }
}

export class GuardDutyBaselineStore extends RegionBaselineStore<GuardDutyBaseline> {
  constructor(aws: AwsClients, table: string | undefined) {
    super(aws, table, 'guardduty', 'GuardDuty baselines');
  }
}

const rank = (frequency: string) =>
  PUBLISHING_FREQUENCIES.indexOf(frequency as (typeof PUBLISHING_FREQUENCIES)[number]);

/** Whether `frequency` publishes less often than `than` (an unknown value counts as the longest). */
export function longerFrequency(frequency: string, than: string): boolean {
  const a = rank(frequency);
  const b = rank(than);
  return (a === -1 ? PUBLISHING_FREQUENCIES.length : a) > (b === -1 ? PUBLISHING_FREQUENCIES.length : b);
}

/** Canonical JSON (object keys sorted), so that two reads of the same criteria compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** Whether a filter matches the same findings as it did (its criteria; the rank only orders filters). */
export function sameCriteria(was: FilterConfig | undefined, now: FilterConfig): boolean {
  return was !== undefined && canonical(was.findingCriteria ?? {}) === canonical(now.findingCriteria ?? {});
}

/** What `now` lost against `baseline`, in words (empty: nothing weaker; the baseline may follow). */
export function detectorLosses(baseline: DetectorConfig, now: DetectorConfig): string[] {
  const lost: string[] = [];
  if (baseline.enabled && !now.enabled) lost.push('detector suspended');
  for (const [name, status] of Object.entries(baseline.features)) {
    if (status === 'ENABLED' && now.features[name] !== 'ENABLED') lost.push(`feature ${name} disabled`);
  }
  if (longerFrequency(now.findingPublishingFrequency, baseline.findingPublishingFrequency))
    lost.push(`findings published ${now.findingPublishingFrequency} instead of ${baseline.findingPublishingFrequency}`);
  // An ARCHIVE filter deleted is a suppression removed: no loss.
  for (const filter of baseline.filters)
    if (filter.action !== 'ARCHIVE' && !now.filters.some((f) => f.name === filter.name))
      lost.push(`filter ${filter.name} deleted`);
  for (const filter of now.filters) {
    const was = baseline.filters.find((f) => f.name === filter.name);
    if (filter.action === 'ARCHIVE' && was?.action !== 'ARCHIVE') lost.push(`filter ${filter.name} archives findings`);
    else if (filter.action === 'ARCHIVE' && !sameCriteria(was, filter))
      lost.push(`filter ${filter.name} archives other findings`);
  }
  for (const d of baseline.destinations)
    if (!now.destinations.some((n) => n.destinationArn === d.destinationArn))
      lost.push(`findings no longer exported to ${d.destinationArn}`);
  for (const d of now.destinations) {
    const was = baseline.destinations.find((b) => b.destinationArn === d.destinationArn);
    if (!was) lost.push(`findings exported to ${d.destinationArn}, which the baseline does not name`);
    else if (was.kmsKeyArn !== d.kmsKeyArn)
      lost.push(`findings exported to ${d.destinationArn} under key ${d.kmsKeyArn}`);
  }
  for (const set of now.trustedIpSets) {
    const was = baseline.trustedIpSets.find((s) => s.id === set.id);
    if (set.status === 'ACTIVE' && was?.status !== 'ACTIVE') lost.push(`trusted IP list ${set.name} active`);
    else if (set.status === 'ACTIVE' && was?.location !== set.location)
      lost.push(`trusted IP list ${set.name} reads another list`);
  }
  if (baseline.administrator && now.administrator !== baseline.administrator)
    lost.push(`no longer a member of administrator ${baseline.administrator}`);
  return lost;
}

/** The features CreateDetector enables when none is named (API_CreateDetector; RUNTIME_MONITORING is opt-in). */
const DEFAULT_FEATURES = [
  'S3_DATA_EVENTS',
  'EKS_AUDIT_LOGS',
  'EBS_MALWARE_PROTECTION',
  'RDS_LOGIN_EVENTS',
  'LAMBDA_NETWORK_LOGS',
];

/**
 * What a detector lacks against the policy a first baseline taken from an event needs: enabled, every default feature
 * GetDetector names ENABLED (one a region lacks is not named), no ARCHIVE filter, no trusted IP list ACTIVE or
 * ACTIVATING (CreateIPSet's status until the list is loaded), every export under a key of `account` (the bucket's ARN
 * names no owner). Finding frequency is not part of it: every value is acceptable. Empty when it meets it.
 */
export function detectorGaps(d: DetectorConfig, account: string, region: string): Gap[] {
  const aws = (command: string, rest: string) =>
    `aws guardduty ${command} --region ${region} --detector-id ${shellWord(d.detectorId)} ${rest}`;
  const gaps: Gap[] = d.enabled
    ? []
    : [{ attribute: 'detector', before: 'suspended', after: 'enabled', fix: aws('update-detector', '--enable') }];
  for (const name of DEFAULT_FEATURES) {
    const status = d.features[name];
    if (status !== undefined && status !== 'ENABLED')
      gaps.push({
        attribute: `feature ${name}`,
        before: status,
        after: 'ENABLED',
        fix: aws('update-detector', `--features Name=${name},Status=ENABLED`),
      });
  }
  for (const f of d.filters)
    if (f.action === 'ARCHIVE')
      gaps.push({
        attribute: `filter ${f.name}`,
        before: 'ARCHIVE',
        after: 'none',
        fix: aws('delete-filter', `--filter-name ${shellWord(f.name)}`),
      });
  for (const s of d.trustedIpSets)
    if (/^ACTIV/.test(s.status))
      gaps.push({
        attribute: `trusted IP list ${s.name}`,
        before: s.status,
        after: 'inactive',
        fix: aws('update-ip-set', `--ip-set-id ${shellWord(s.id)} --no-activate`),
      });
  for (const x of d.destinations)
    if (x.kmsKeyArn.split(':')[4] !== account)
      gaps.push({
        attribute: `export to ${x.destinationArn}`,
        before: `key ${x.kmsKeyArn}`,
        after: account,
        fix: `${aws(
          'update-publishing-destination',
          `--destination-id DESTINATION_ID --destination-properties ${shellWord(JSON.stringify({ DestinationArn: x.destinationArn, KmsKeyArn: 'KEY_ARN' }))}`,
        )} (DESTINATION_ID: aws guardduty list-publishing-destinations; KEY_ARN: a key of ${account})`,
      });
  return gaps;
}

/** A gap, with the command that closes it. */
export type Gap = Finding & { fix?: string };

const fixesText = (gaps: Gap[]) => {
  const fixes = gaps.flatMap((g) => g.fix ?? []);
  return fixes.length ? ` (${fixes.join('; ')})` : '';
};

export const gapText = (gaps: Finding[]) => gaps.map((g) => `${g.attribute} ${g.before}`).join(', ');

/**
 * A first capture's gaps told: refused (an event's: with the commands that close them, the next step), or `asItIs`
 * (the sweep's, stored anyway).
 */
export const firstCaptureText = (region: string, gaps: Gap[], asItIs?: boolean) =>
  `GuardDuty in ${region}: ${asItIs ? 'baseline captured as it is' : 'no baseline captured'}: ${gapText(gaps)}.${
    asItIs
      ? ''
      : ` Fix it${fixesText(gaps)}, then the sweep captures it; as it is: npm run sweep -- --regions ${region}.`
  }`;

/**
 * Reads the region's detector and stores it as the region's baseline where it has none: the baseline, or undefined
 * when none was stored. `onlyIfCompliantFor` (an event's capture, with the account): the detector read now must meet
 * the policy (detectorGaps), or nothing is stored and the refusal is returned (firstCaptureText).
 */
export async function captureGuardDutyBaseline(
  ctx: RuleContext,
  region: string,
  from: string,
  onlyIfCompliantFor?: string,
) {
  const config = await readDetector(ctx.aws, region);
  if (!config) return undefined;
  const gaps = onlyIfCompliantFor === undefined ? [] : detectorGaps(config, onlyIfCompliantFor, region);
  if (gaps.length > 0) return firstCaptureText(region, gaps);
  const baseline: GuardDutyBaseline = { region, config, capturedAt: new Date().toISOString(), capturedFrom: from };
  const stored = await new GuardDutyBaselineStore(ctx.aws, ctx.settings.stateTable).put(baseline, 'first');
  return stored ? baseline : undefined;
}

/** Captures the baseline of each region that has a detector and no baseline yet (as it is); the regions captured. */
export async function captureGuardDutyBaselines(ctx: RuleContext, regions: string[], from: string): Promise<string[]> {
  const captured: string[] = [];
  for (const region of regions) if (await captureGuardDutyBaseline(ctx, region, from)) captured.push(region);
  return captured;
}

/**
 * The baseline follows a change the engine accepted: the detector is read again and stored in place of the baseline
 * read, unless the read is weaker than it (a change that landed after the decision) or it was rewritten meanwhile.
 * Returns why it was kept, or undefined when it followed.
 */
export async function followGuardDutyBaseline(ctx: RuleContext, region: string, from: string) {
  const config = await readDetector(ctx.aws, region);
  if (!config) return 'the detector was deleted meanwhile';
  const store = new GuardDutyBaselineStore(ctx.aws, ctx.settings.stateTable);
  const old = await store.get(region);
  const lost = old ? detectorLosses(old.config, config) : [];
  if (lost.length > 0) return `the detector changed again meanwhile (${lost.join(', ')})`;
  const baseline: GuardDutyBaseline = { region, config, capturedAt: new Date().toISOString(), capturedFrom: from };
  if (!(await store.put(baseline, 'follow', old))) return 'the baseline was rewritten meanwhile';
  return undefined;
}

// The pipeline keeps a rule's guardduty-baseline records through this (lib/records.ts).
registerRecordKeeper('guardduty-baseline', async (record, ctx) => {
  if (record.mode === 'first') {
    const refused = await captureGuardDutyBaseline(ctx, record.region, record.from, record.onlyIfCompliantFor);
    return typeof refused === 'string' ? refused : undefined;
  }
  const kept = await followGuardDutyBaseline(ctx, record.region, record.from);
  return (
    kept &&
    `GuardDuty in ${record.region}: baseline kept: ${kept}; the next event or sweep compares the detector with it.`
  );
});
