/**
 * GuardDuty stays on in every region with the configuration it had (Security Hub GuardDuty.1): a deleted detector is
 * re-created from the region's baseline (features, finding publishing frequency, tags, then its filters and publishing
 * destinations), a suspended or weakened one gets only what was weakened back, and a region with no detector gets one
 * (DRIFTGUARD_GUARDDUTY_ENABLE_MISSING). What silences findings without turning anything off (leaving the administrator,
 * an ARCHIVE filter, an active trusted IP list) is told to a human, naming what goes unseen, with no write. Reading the
 * detector and the baselines is lib/guardduty-baselines.ts.
 */
import {
  CreateDetectorCommand,
  CreateFilterCommand,
  type CreateFilterCommandInput,
  CreatePublishingDestinationCommand,
  type CreatePublishingDestinationCommandInput,
  DetectorFeature,
  type DetectorFeatureConfiguration,
  GuardDutyClient,
  UpdateDetectorCommand,
  type UpdateDetectorCommandInput,
} from '@aws-sdk/client-guardduty';
import { awsErrorName } from '../aws.js';
import { type CloudTrailEvent, MalformedEventError, requireStringParameter } from '../envelope.js';
import {
  type DestinationConfig,
  type DetectorConfig,
  detectorGaps,
  detectorIdIn,
  type FilterConfig,
  firstCaptureText,
  type GuardDutyBaseline,
  GuardDutyBaselineStore,
  longerFrequency,
  readDetector,
  sameCriteria,
} from '../guardduty-baselines.js';
import { shellWord } from '../notices.js';
import {
  type ActionOf,
  command,
  type Decision,
  defineRule,
  type EngineRecord,
  type Finding,
  noAction,
  type Resource,
  type RuleContext,
  type Severity,
  type Skip,
  STATE_TABLE_ARN,
} from '../rule.js';
import type { Settings } from '../settings.js';

export const GUARDDUTY_EVENTS = [
  'DeleteDetector',
  'UpdateDetector',
  'DisassociateFromAdministratorAccount',
  'DisassociateFromMasterAccount',
  'CreateFilter',
  'UpdateFilter',
  'CreateIPSet',
  'UpdateIPSet',
  'DeletePublishingDestination',
] as const;

const DISASSOCIATIONS: readonly string[] = ['DisassociateFromAdministratorAccount', 'DisassociateFromMasterAccount'];

/** Detectors and what hangs under them (filters, IP sets, publishing destinations): IAM's `*` spans the slashes. */
const DETECTORS = 'arn:${AWS::Partition}:guardduty:*:${AWS::AccountId}:detector/*';

export const GUARDDUTY_COMMANDS = {
  // CreateDetector names no resource; with tags it is also TagResource; the first one creates GuardDuty's service role.
  'guardduty:CreateDetector': command(GuardDutyClient, CreateDetectorCommand, '*', {
    alsoNeeds: [
      { actions: ['guardduty:TagResource'], resource: DETECTORS },
      {
        actions: ['iam:CreateServiceLinkedRole'],
        resource:
          'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty',
        condition: { StringEquals: { 'iam:AWSServiceName': 'guardduty.amazonaws.com' } },
      },
    ],
  }),
  'guardduty:UpdateDetector': command(GuardDutyClient, UpdateDetectorCommand, DETECTORS),
  'guardduty:CreateFilter': command(GuardDutyClient, CreateFilterCommand, DETECTORS),
  'guardduty:CreatePublishingDestination': command(GuardDutyClient, CreatePublishingDestinationCommand, DETECTORS),
};

export type GuardDutyAction = ActionOf<typeof GUARDDUTY_COMMANDS>;

/** A region's GuardDuty, as an event named it (its detector) or as the sweep looks at it (no event). */
export interface GuardDutyTarget {
  region: string;
  account: string;
  /** The detector the event's call named; the sweep names none (the region's present one is read). */
  detectorId?: string;
  eventName?: string;
  eventId?: string;
  eventTime?: string;
  sweepId?: string;
  /** The filter a CreateFilter/UpdateFilter named. */
  filterName?: string;
  /** The IP set an UpdateIPSet named (CreateIPSet's is in its response). */
  ipSetId?: string;
}

export interface GuardDutyState {
  target: GuardDutyTarget;
  current: DetectorConfig | undefined;
  baseline: GuardDutyBaseline | undefined;
}

const DETECTOR_ID = /^[A-Za-z0-9]{1,300}$/;

function optionalString(event: CloudTrailEvent, field: 'requestParameters' | 'responseElements', name: string) {
  const value = (event.detail[field] as Record<string, unknown> | null | undefined)?.[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new MalformedEventError(
      `${event.detail.eventName} event ${event.detail.eventID}: detail.${field}.${name} must be a non-empty string`,
    );
  return value;
}

export function targetOf(event: CloudTrailEvent): GuardDutyTarget | Skip {
  const { detail } = event;
  const detectorId = requireStringParameter(event, 'detectorId');
  if (!DETECTOR_ID.test(detectorId))
    throw new MalformedEventError(
      `${detail.eventName} event ${detail.eventID}: detail.requestParameters.detectorId is not a GuardDuty detector id`,
    );
  const base: GuardDutyTarget = {
    region: detail.awsRegion,
    account: event.account,
    detectorId,
    eventName: detail.eventName,
    eventId: detail.eventID,
    eventTime: detail.eventTime,
  };
  const params = detail.requestParameters ?? {};
  switch (detail.eventName) {
    case 'CreateFilter':
    case 'UpdateFilter': {
      // UpdateFilter without an action keeps the filter's: the present filter decides.
      if (params.action !== undefined && params.action !== 'ARCHIVE')
        return { skip: `filter action ${String(params.action)}: its findings stay visible` };
      const filterName = optionalString(
        event,
        'requestParameters',
        detail.eventName === 'CreateFilter' ? 'name' : 'filterName',
      );
      return { ...base, ...(filterName ? { filterName } : {}) };
    }
    case 'CreateIPSet':
    case 'UpdateIPSet': {
      if (params.activate === false) return { skip: 'the IP list is not activated: GuardDuty still makes findings' };
      const ipSetId =
        detail.eventName === 'UpdateIPSet'
          ? optionalString(event, 'requestParameters', 'ipSetId')
          : optionalString(event, 'responseElements', 'ipSetId');
      return { ...base, ...(ipSetId ? { ipSetId } : {}) };
    }
    default:
      return base;
  }
}

function describeRegion(target: GuardDutyTarget): Resource {
  const { region, account, detectorId } = target;
  return {
    type: 'guardduty-detector',
    id: detectorId ? `${region}/${detectorId}` : region,
    ...(detectorId ? { arn: `arn:aws:guardduty:${region}:${account}:detector/${detectorId}` } : {}),
    region,
    consoleUrl: `https://${region}.console.aws.amazon.com/guardduty/home?region=${region}#/settings`,
  };
}

function baselineRecord(target: GuardDutyTarget, mode: 'first' | 'follow'): EngineRecord {
  return {
    kind: 'guardduty-baseline',
    region: target.region,
    from: target.eventId ?? target.sweepId ?? 'capture',
    mode,
    // An event's first capture stores only a detector that meets the policy when read again (after the writes).
    ...(mode === 'first' && target.eventName ? { onlyIfCompliantFor: target.account } : {}),
    summary: mode === 'first' ? 'baseline captured' : 'the baseline follows',
  };
}

const CONFIGURABLE: readonly string[] = Object.values(DetectorFeature);

/**
 * The features CreateDetector and UpdateDetector accept, from GetDetector's: GetDetector also names the foundational
 * sources (CLOUD_TRAIL, DNS_LOGS, FLOW_LOGS), which are always on and which the write calls reject (their Name is the
 * narrower DetectorFeature enum); and naming both EKS_RUNTIME_MONITORING and RUNTIME_MONITORING "will cause an error"
 * (API_DetectorFeatureConfiguration), so only one goes: RUNTIME_MONITORING, which includes EKS, unless only the EKS
 * one is on.
 */
export function featureList(features: Record<string, string>): DetectorFeatureConfiguration[] {
  const named = Object.entries(features).filter(([name]) => CONFIGURABLE.includes(name));
  const status = (name: string) => named.find(([n]) => n === name)?.[1];
  const eks = status('EKS_RUNTIME_MONITORING');
  const runtime = status('RUNTIME_MONITORING');
  const drop =
    eks === undefined || runtime === undefined
      ? undefined
      : runtime !== 'ENABLED' && eks === 'ENABLED'
        ? 'RUNTIME_MONITORING'
        : 'EKS_RUNTIME_MONITORING';
  return named
    .filter(([name]) => name !== drop)
    .map(([Name, Status]) => ({ Name: Name as never, Status: Status as never }));
}

function filterInput(detectorId: string, filter: FilterConfig): CreateFilterCommandInput {
  return {
    DetectorId: detectorId,
    Name: filter.name,
    Action: filter.action as never,
    ...(filter.rank !== undefined ? { Rank: filter.rank } : {}),
    ...(filter.description ? { Description: filter.description } : {}),
    FindingCriteria: (filter.findingCriteria ?? {}) as never,
  };
}

function destinationInput(detectorId: string, d: DestinationConfig): CreatePublishingDestinationCommandInput {
  return {
    DetectorId: detectorId,
    DestinationType: d.destinationType as never,
    DestinationProperties: { DestinationArn: d.destinationArn, KmsKeyArn: d.kmsKeyArn },
  };
}

/** Placeholder shown in reports for the id of a detector the same decision re-creates. */
export const RECREATED_DETECTOR = '(the re-created detector)';

/** Resolves the placeholder at send time: the region's present detector (the one the CreateDetector before made). */
async function presentDetector(aws: Parameters<typeof detectorIdIn>[0], region: string): Promise<string> {
  const id = await detectorIdIn(aws, region);
  if (id === undefined) throw new Error(`no GuardDuty detector in ${region} to restore filters and destinations on`);
  return id;
}

/** The baseline's filters a restore may put back: NOOP ones (an ARCHIVE one hides findings: a human's call). */
const restorableFilters = (base: DetectorConfig) => base.filters.filter((f) => f.action !== 'ARCHIVE');

/** The step for an ARCHIVE filter of a deleted detector's baseline: the engine never re-creates a suppression. */
function archiveNotRecreated(filter: FilterConfig, region: string): string {
  return `Suppression filter ${filter.name} (ARCHIVE) of the deleted detector was not re-created: the engine never brings back a filter that hides findings. If it is still wanted: aws guardduty create-filter --region ${region} --detector-id <the new detector's id> --name ${shellWord(filter.name)} --action ARCHIVE${filter.rank !== undefined ? ` --rank ${filter.rank}` : ''} --finding-criteria ${shellWord(JSON.stringify(filter.findingCriteria ?? {}))}.`;
}

function restoreFilter(detectorId: string | undefined, filter: FilterConfig): GuardDutyAction {
  return {
    api: 'guardduty:CreateFilter',
    params: filterInput(detectorId ?? RECREATED_DETECTOR, filter),
    ...(detectorId ? {} : { resolve: async (aws, region) => filterInput(await presentDetector(aws, region), filter) }),
    summary: `filter ${filter.name} (${filter.action}) put back from the baseline`,
    brief: `filter ${filter.name}`,
  };
}

function restoreDestination(detectorId: string | undefined, d: DestinationConfig): GuardDutyAction {
  return {
    api: 'guardduty:CreatePublishingDestination',
    params: destinationInput(detectorId ?? RECREATED_DETECTOR, d),
    ...(detectorId ? {} : { resolve: async (aws, region) => destinationInput(await presentDetector(aws, region), d) }),
    summary: `findings exported again to ${d.destinationArn} (key ${d.kmsKeyArn})`,
    brief: 'export restored',
  };
}

function needsHuman(reason: string, steps: string[], severity: Severity, findings: Finding[] = []): Decision<never> {
  return { status: 'drifted', reason, findings, actions: [], needsHuman: steps, severity };
}

/** The exact steps that bring back an administrator link: only the administrator account can invite again. */
export function reinviteSteps(account: string, administrator: string | undefined, region: string): string {
  const admin = administrator ?? '<administrator account id>';
  return (
    `The link to GuardDuty administrator account ${admin} cannot be restored from this account: from ${admin}, in ${region}, run ` +
    `aws guardduty create-members --region ${region} --detector-id <administrator's detector id> --account-details AccountId=${account},Email=<this account's email>, then ` +
    `aws guardduty invite-members --region ${region} --detector-id <administrator's detector id> --account-ids ${account}; then in this account ` +
    `aws guardduty accept-administrator-invitation --region ${region} --detector-id <this detector's id> --administrator-id ${admin} --invitation-id <id from aws guardduty list-invitations>` +
    ' (with AWS Organizations, the delegated administrator adds the account back as a member instead).'
  );
}

/** What silences findings without turning anything off, as steps for a human (no write). */
function silencers(state: GuardDutyState): { findings: Finding[]; steps: string[] } {
  const { target, current, baseline } = state;
  const findings: Finding[] = [];
  const steps: string[] = [];
  if (!current) return { findings, steps };
  const base = baseline?.config;
  // An ARCHIVE filter is told when it is new, when it matches other findings than the baseline's (widened), or when
  // the event itself made or changed it: never accepted silently, never followed.
  const archives = current.filters.flatMap((f) => {
    if (f.action !== 'ARCHIVE') return [];
    const was = base?.filters.find((b) => b.name === f.name);
    if (base && was?.action !== 'ARCHIVE') return [{ filter: f, before: 'none or NOOP' }];
    if (base && !sameCriteria(was, f)) return [{ filter: f, before: 'ARCHIVE with other criteria' }];
    return f.name === target.filterName
      ? [{ filter: f, before: base ? 'ARCHIVE (changed by the event)' : 'unknown' }]
      : [];
  });
  for (const { filter, before } of archives) {
    findings.push({ attribute: `filter ${filter.name}`, before, after: 'ARCHIVE' });
    steps.push(
      `Filter ${filter.name} in ${target.region} archives every new finding matching ${criteriaText(filter)} on arrival: those findings go unseen (not sent to EventBridge, Security Hub, Detective or the S3 export). If that is not intended: aws guardduty delete-filter --region ${target.region} --detector-id ${current.detectorId} --filter-name ${shellWord(filter.name)}.`,
    );
  }
  // An active trusted list is told when it is newly active, reads another list than the baseline's (swapped), or the
  // event touched it (an UpdateIPSet makes GuardDuty reload the object, whose content may have been overwritten).
  const trusted = current.trustedIpSets.flatMap((s) => {
    if (s.status !== 'ACTIVE') return [];
    const was = base?.trustedIpSets.find((b) => b.id === s.id);
    if (base && was?.status !== 'ACTIVE') return [{ set: s, before: 'inactive or none' }];
    if (base && was?.location !== s.location)
      return [{ set: s, before: `ACTIVE, reading ${listPlace(was?.location)}` }];
    return s.id === target.ipSetId ? [{ set: s, before: base ? 'ACTIVE (reloaded by the event)' : 'unknown' }] : [];
  });
  for (const { set, before } of trusted) {
    findings.push({
      attribute: `trusted IP list ${set.name}`,
      before,
      after: `ACTIVE, reading ${listPlace(set.location)}`,
    });
    steps.push(
      `Trusted IP list ${set.name} (${listPlace(set.location)}) is active in ${target.region}: GuardDuty makes no findings for traffic with the addresses it lists, whatever they do. Check who added it and the list's content; if not intended: aws guardduty update-ip-set --region ${target.region} --detector-id ${current.detectorId} --ip-set-id ${shellWord(set.id)} --no-activate.`,
    );
  }
  // The export re-pointed without an event the engine hears (UpdatePublishingDestination): another key makes the
  // exported findings unreadable to whoever held the baseline's; a destination the baseline does not name sends them
  // elsewhere. Told, never written: which of the two is wanted is a human's call.
  for (const d of base ? current.destinations : []) {
    const was = base?.destinations.find((b) => b.destinationArn === d.destinationArn);
    if (was && was.kmsKeyArn === d.kmsKeyArn) continue;
    findings.push({
      attribute: `publishing destination ${d.destinationArn}`,
      before: was ? `key ${was.kmsKeyArn}` : 'not in the baseline',
      after: `key ${d.kmsKeyArn}`,
    });
    steps.push(
      was
        ? `The export of findings to ${d.destinationArn} in ${target.region} is now encrypted with key ${d.kmsKeyArn} instead of the baseline's ${was.kmsKeyArn}: whoever does not hold the new key cannot read them. If not intended: aws guardduty update-publishing-destination --region ${target.region} --detector-id ${current.detectorId} --destination-id DESTINATION_ID --destination-properties ${shellWord(JSON.stringify({ DestinationArn: d.destinationArn, KmsKeyArn: was.kmsKeyArn }))} (DESTINATION_ID: aws guardduty list-publishing-destinations).`
        : `Findings in ${target.region} are exported to ${d.destinationArn} (key ${d.kmsKeyArn}), which the baseline does not name: check who set it up; if not intended: aws guardduty delete-publishing-destination --region ${target.region} --detector-id ${current.detectorId} --destination-id DESTINATION_ID (DESTINATION_ID: aws guardduty list-publishing-destinations).`,
    );
  }
  const lostAdmin = base?.administrator && current.administrator !== base.administrator;
  const disassociated = DISASSOCIATIONS.includes(target.eventName ?? '') && current.administrator === undefined;
  if (lostAdmin || disassociated) {
    const admin = base?.administrator;
    findings.push({ attribute: 'administrator', before: admin ?? 'an administrator account', after: 'none' });
    steps.push(
      `This account's GuardDuty findings in ${target.region} no longer reach administrator account ${admin ?? '(unknown: no baseline named one)'}, whose team will not see them. ${reinviteSteps(target.account, admin, target.region)}`,
    );
  }
  return { findings, steps };
}

/** A list's location without its query string (a presigned URL's would carry a credential and a signature). */
const listPlace = (location: string | undefined) => (location ?? '(unknown)').split('?')[0];

function criteriaText(filter: FilterConfig): string {
  const criterion = (filter.findingCriteria?.Criterion ?? filter.findingCriteria?.criterion) as
    | Record<string, unknown>
    | undefined;
  const fields = criterion ? Object.keys(criterion) : [];
  return fields.length ? `its criteria on ${fields.join(', ')}` : 'its criteria';
}

/** The UpdateDetector that puts back only what was weakened, and the findings it answers; undefined when nothing. */
function detectorRestore(base: DetectorConfig, current: DetectorConfig) {
  const findings: Finding[] = [];
  const params: UpdateDetectorCommandInput = { DetectorId: current.detectorId };
  if (base.enabled && !current.enabled) {
    params.Enable = true;
    findings.push({ attribute: 'detector', before: 'suspended', after: 'enabled' });
  }
  const features = Object.entries(base.features).filter(
    ([name, status]) => status === 'ENABLED' && current.features[name] !== 'ENABLED',
  );
  const sent = featureList(Object.fromEntries(features));
  if (sent.length > 0) {
    params.Features = sent.map(({ Name }) => ({ Name, Status: 'ENABLED' }));
    for (const { Name } of sent)
      findings.push({
        attribute: `feature ${Name}`,
        before: current.features[String(Name)] ?? 'absent',
        after: 'ENABLED',
      });
  }
  if (longerFrequency(current.findingPublishingFrequency, base.findingPublishingFrequency)) {
    params.FindingPublishingFrequency = base.findingPublishingFrequency as never;
    findings.push({
      attribute: 'findingPublishingFrequency',
      before: current.findingPublishingFrequency,
      after: base.findingPublishingFrequency,
    });
  }
  if (findings.length === 0) return undefined;
  const action: GuardDutyAction = {
    api: 'guardduty:UpdateDetector',
    params,
    summary: findings.map((f) => `${f.attribute} ${f.before} -> ${f.after}`).join(', '),
    brief: findings.map((f) => f.attribute).join(', '),
  };
  return { action, findings };
}

/** Whether the detector differs from its baseline in what a baseline keeps (a change the baseline may follow). */
function differs(base: DetectorConfig, current: DetectorConfig): boolean {
  const keep = (c: DetectorConfig) =>
    JSON.stringify([
      c.detectorId,
      c.enabled,
      c.findingPublishingFrequency,
      c.features,
      c.tags,
      c.filters,
      c.destinations,
      c.trustedIpSets,
      c.administrator,
    ]);
  return keep(base) !== keep(current);
}

export function decideGuardDuty(
  state: GuardDutyState,
  settings: Pick<Settings, 'guarddutyEnableMissing'>,
): Decision<GuardDutyAction> {
  const { target, current, baseline } = state;
  if (!current) return baseline ? decideRecreate(state, baseline) : decideMissing(target, settings);
  const silenced = silencers(state);
  if (!baseline) {
    // No baseline: the present detector becomes it, enabled first if suspended. An event (the intruder's own, maybe)
    // captures only a detector that otherwise meets the policy (checked again when kept); the sweep captures any, as
    // Config's does, and tells what it lacks.
    const gaps = detectorGaps(current, target.account, target.region).filter((g) => g.attribute !== 'detector');
    const enable = detectorRestore({ ...current, enabled: true }, current);
    const told = silenced.findings.map((f) => f.attribute);
    const findings = [
      ...(enable?.findings ?? []),
      ...gaps.filter((g) => !told.includes(g.attribute)).map(({ fix, ...finding }) => finding),
      ...silenced.findings,
    ];
    const steps = gaps.length ? [firstCaptureText(target.region, gaps, !target.eventName)] : [];
    const capture = target.eventName && gaps.length ? [] : [baselineRecord(target, 'first')];
    if (findings.length === 0) return noAction('compliant', `GuardDuty is enabled in ${target.region}`, capture);
    return {
      status: 'drifted',
      reason: `GuardDuty ${enable ? 'suspended' : 'weakened'} in ${target.region} (no baseline yet)`,
      findings,
      actions: enable ? [enable.action] : [],
      needsHuman: [...silenced.steps, ...steps],
      severity: enable ? 'critical' : 'high',
      bookkeeping: capture,
    };
  }
  const base = baseline.config;
  const restore = detectorRestore(base, current);
  // Only NOOP filters are put back: an ARCHIVE filter deleted is a suppression removed, a strengthening.
  const filters = restorableFilters(base).filter((f) => !current.filters.some((c) => c.name === f.name));
  const destinations = base.destinations.filter(
    (d) => !current.destinations.some((c) => c.destinationArn === d.destinationArn),
  );
  const actions: GuardDutyAction[] = [
    ...(restore ? [restore.action] : []),
    ...filters.map((f) => restoreFilter(current.detectorId, f)),
    ...destinations.map((d) => restoreDestination(current.detectorId, d)),
  ];
  const findings: Finding[] = [
    ...(restore?.findings ?? []),
    ...filters.map((f) => ({ attribute: `filter ${f.name}`, before: 'deleted', after: 'put back' })),
    ...destinations.map((d) => ({ attribute: 'publishing destination', before: 'deleted', after: d.destinationArn })),
    ...silenced.findings,
  ];
  if (actions.length === 0 && silenced.steps.length === 0) {
    // Nothing weaker than the baseline: a change (a feature enabled, a shorter frequency) is accepted and followed.
    return target.eventName && differs(base, current)
      ? noAction('compliant', `${target.eventName} does not weaken GuardDuty in ${target.region}: accepted`, [
          baselineRecord(target, 'follow'),
        ])
      : noAction('compliant', `GuardDuty in ${target.region} is as its baseline says`);
  }
  if (actions.length === 0)
    return needsHuman('findings silenced without a change the engine may undo', silenced.steps, 'high', findings);
  return {
    status: 'drifted',
    reason: `weakened: ${findings.map((f) => f.attribute).join(', ')}`,
    findings,
    actions,
    needsHuman: silenced.steps,
    severity: current.enabled ? 'high' : 'critical',
  };
}

function decideRecreate(state: GuardDutyState, baseline: GuardDutyBaseline): Decision<GuardDutyAction> {
  const { target } = state;
  const base = baseline.config;
  const create: GuardDutyAction = {
    api: 'guardduty:CreateDetector',
    params: {
      Enable: true,
      Features: featureList(base.features),
      FindingPublishingFrequency: base.findingPublishingFrequency as never,
      ...(Object.keys(base.tags).length ? { Tags: base.tags } : {}),
    },
    summary: `detector re-created from the baseline of ${baseline.capturedAt} (${Object.entries(base.features)
      .map(([n, s]) => `${n} ${s}`)
      .join(', ')}; findings every ${base.findingPublishingFrequency})`,
    brief: 'detector re-created',
  };
  const lostFindings = `Detector ${base.detectorId}'s findings in ${target.region} are gone for good (deleting a detector deletes them)${
    base.destinations.length
      ? `; the copies exported to ${base.destinations.map((d) => d.destinationArn).join(', ')} remain`
      : ''
  }: review what happened before the deletion there and in CloudTrail.`;
  return {
    status: 'drifted',
    reason: `GuardDuty detector deleted in ${target.region}`,
    findings: [
      { attribute: 'detector', before: 'deleted', after: `re-created from the baseline of ${baseline.capturedAt}` },
    ],
    actions: [
      create,
      ...restorableFilters(base).map((f) => restoreFilter(undefined, f)),
      ...base.destinations.map((d) => restoreDestination(undefined, d)),
    ],
    needsHuman: [
      lostFindings,
      ...base.filters.filter((f) => f.action === 'ARCHIVE').map((f) => archiveNotRecreated(f, target.region)),
      ...(base.administrator ? [reinviteSteps(target.account, base.administrator, target.region)] : []),
    ],
    severity: 'critical',
  };
}

function decideMissing(
  target: GuardDutyTarget,
  settings: Pick<Settings, 'guarddutyEnableMissing'>,
): Decision<GuardDutyAction> {
  const severity: Severity = target.eventName === 'DeleteDetector' ? 'critical' : 'high';
  const finding: Finding = { attribute: 'detector', before: 'none', after: 'enabled' };
  if (!settings.guarddutyEnableMissing) {
    return needsHuman(
      `GuardDuty is off in ${target.region} and DRIFTGUARD_GUARDDUTY_ENABLE_MISSING is false`,
      [
        `Enable GuardDuty in ${target.region} (aws guardduty create-detector --region ${target.region} --enable), or deploy with --param="guarddutyEnableMissing=true"; the engine then captures its baseline.`,
      ],
      severity,
      [finding],
    );
  }
  return {
    status: 'drifted',
    reason: `GuardDuty is off in ${target.region}${target.eventName ? ' and the region has no baseline' : ''}`,
    findings: [finding],
    actions: [
      {
        api: 'guardduty:CreateDetector',
        // AWS's defaults: every feature on but runtime monitoring, findings every six hours.
        params: { Enable: true },
        summary: 'detector created with AWS default features',
        brief: 'detector created',
      },
    ],
    needsHuman:
      target.eventName === 'DeleteDetector'
        ? [
            'The deleted detector had no baseline: its findings, filters and settings are gone; the new one has AWS defaults.',
          ]
        : [],
    severity,
    bookkeeping: [baselineRecord(target, 'first')],
  };
}

async function inspectRegion(target: GuardDutyTarget, ctx: RuleContext): Promise<GuardDutyState> {
  const current = await readDetector(ctx.aws, target.region);
  const baseline = await new GuardDutyBaselineStore(ctx.aws, ctx.settings.stateTable).get(target.region);
  return { target, current, baseline };
}

export const guarddutyEnabled = defineRule<GuardDutyTarget, GuardDutyState, typeof GUARDDUTY_COMMANDS>({
  id: 'guardduty-enabled',
  title: 'GuardDuty is on in every region with the configuration it had',
  severity: 'high',
  controls: ['GuardDuty.1'],
  trigger: { source: 'aws.guardduty', detailTypes: ['AWS API Call via CloudTrail'], eventNames: [...GUARDDUTY_EVENTS] },
  commands: GUARDDUTY_COMMANDS,
  reads: [
    { actions: ['guardduty:ListDetectors'], resource: '*' },
    {
      actions: [
        'guardduty:GetDetector',
        'guardduty:ListFilters',
        'guardduty:GetFilter',
        'guardduty:ListPublishingDestinations',
        'guardduty:DescribePublishingDestination',
        'guardduty:ListIPSets',
        'guardduty:GetIPSet',
        'guardduty:GetAdministratorAccount',
      ],
      resource: DETECTORS,
    },
    { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], resource: STATE_TABLE_ARN },
  ],

  target: targetOf,
  describe: describeRegion,
  inspect: inspectRegion,
  decide: decideGuardDuty,

  async classifyFailure(action, error) {
    // A detector made meanwhile (by a human or an earlier attempt): the next event or sweep compares it.
    if (action.api === 'guardduty:CreateDetector' && /detector already exists/.test((error as Error).message))
      return { kind: 'done' };
    if (awsErrorName(error) === 'AccessDeniedException')
      return {
        kind: 'refused',
        step: `GuardDuty refused ${action.api}: ${(error as Error).message}; check the engine role and any SCP on guardduty:*.`,
      };
    return undefined;
  },

  async verify(state, ctx) {
    const now = await readDetector(ctx.aws, state.target.region);
    if (!now)
      return [`GuardDuty in ${state.target.region} still has no detector after the restore: enable it by hand.`];
    const steps: string[] = [];
    if (!now.enabled) steps.push(`The detector in ${state.target.region} is still suspended: enable it by hand.`);
    const base = state.baseline?.config;
    if (base) {
      const restore = detectorRestore(base, now);
      if (restore) steps.push(`Not restored in ${state.target.region}: ${restore.action.summary}.`);
      for (const f of restorableFilters(base))
        if (!now.filters.some((c) => c.name === f.name))
          steps.push(`Filter ${f.name} was not restored in ${state.target.region}.`);
      for (const d of base.destinations)
        if (!now.destinations.some((c) => c.destinationArn === d.destinationArn))
          steps.push(`The export of findings to ${d.destinationArn} was not restored in ${state.target.region}.`);
    }
    return steps;
  },

  sweep: {
    pass: 'guardduty',
    // One item per region: its detector (one per region) or its absence.
    async list(region, _token, ctx) {
      return { items: [{ region, account: ctx.account, sweepId: ctx.sweepId }] };
    },
    async assess(target: GuardDutyTarget, _region, ctx) {
      const state = await inspectRegion(target, ctx);
      const resource = describeRegion({
        ...target,
        ...(state.current ? { detectorId: state.current.detectorId } : {}),
      });
      return { name: `GuardDuty ${target.region}`, resource, state, decision: decideGuardDuty(state, ctx.settings) };
    },
  },
});
