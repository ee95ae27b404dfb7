/**
 * Reenactments of the GuardDuty triggers: first the region's detector fully configured (every feature on, runtime
 * monitoring too, findings every 15 minutes, tags, a NOOP filter, an export of findings to S3, an inactive trusted IP
 * list, an administrator), whose baseline the engine captures; then the event's own call in the event's region. The
 * emulator chooses detector, IP set and destination ids: the event's ids are mapped onto the ones made, and the notes
 * say so.
 */
import {
  CreateDetectorCommand,
  CreateFilterCommand,
  CreateIPSetCommand,
  CreatePublishingDestinationCommand,
  DeleteDetectorCommand,
  DeletePublishingDestinationCommand,
  DisassociateFromAdministratorAccountCommand,
  DisassociateFromMasterAccountCommand,
  EnableOrganizationAdminAccountCommand,
  GuardDutyClient,
  ListDetectorsCommand,
  ListIPSetsCommand,
  ListPublishingDestinationsCommand,
  UpdateDetectorCommand,
  type UpdateDetectorCommandInput,
  UpdateFilterCommand,
  UpdateIPSetCommand,
} from '@aws-sdk/client-guardduty';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import { captureGuardDutyBaseline } from '../../lib/guardduty-baselines.js';
import { emulatorClientConfig } from '../emulator/client.js';
import type { ReenactContext, Reenactment } from './reenactment.js';

/** The administrator account the reenacted detector reports to (the emulator keeps it per region). */
export const REENACTED_ADMINISTRATOR = '210987654321';
export const REENACTED_FILTER = 'ec2-recon';

const params = (event: CloudTrailEvent) => (event.detail.requestParameters ?? {}) as Record<string, unknown>;

interface Configured {
  guardduty: GuardDutyClient;
  detectorId: string;
}

/** The region's detector as a careful administrator leaves it, made once per region, with its baseline captured. */
async function configuredDetector(ctx: ReenactContext, region: string): Promise<Configured> {
  const guardduty = new GuardDutyClient(emulatorClientConfig(ctx.endpoint, region));
  const { DetectorIds = [] } = await guardduty.send(new ListDetectorsCommand({}));
  let detectorId = DetectorIds[0];
  if (detectorId === undefined) {
    const created = await guardduty.send(
      new CreateDetectorCommand({
        Enable: true,
        FindingPublishingFrequency: 'FIFTEEN_MINUTES',
        Features: [{ Name: 'RUNTIME_MONITORING', Status: 'ENABLED' }],
        Tags: { owner: 'security', purpose: 'threat-detection' },
      }),
    );
    detectorId = String(created.DetectorId);
    await guardduty.send(
      new CreateFilterCommand({
        DetectorId: detectorId,
        Name: REENACTED_FILTER,
        Action: 'NOOP',
        Rank: 1,
        FindingCriteria: { Criterion: { type: { Eq: ['Recon:EC2/PortProbeUnprotectedPort'] } } },
      }),
    );
    await guardduty.send(
      new CreatePublishingDestinationCommand({
        DetectorId: detectorId,
        DestinationType: 'S3',
        DestinationProperties: {
          DestinationArn: `arn:aws:s3:::guardduty-findings-${ctx.account}-${region}`,
          KmsKeyArn: `arn:aws:kms:${region}:${ctx.account}:key/00000000-0000-4000-8000-00000000f1d5`,
        },
      }),
    );
    await guardduty.send(
      new CreateIPSetCommand({
        DetectorId: detectorId,
        Name: 'office',
        Format: 'TXT',
        Location: `https://s3.amazonaws.com/guardduty-lists-${ctx.account}/trusted-ips.txt`,
        Activate: false,
      }),
    );
    await guardduty.send(new EnableOrganizationAdminAccountCommand({ AdminAccountId: REENACTED_ADMINISTRATOR }));
    ctx.notes.push(
      `created GuardDuty detector ${detectorId} in ${region}: every feature on, findings every 15 minutes, tags, filter ${REENACTED_FILTER}, an export to S3, an inactive trusted IP list, administrator ${REENACTED_ADMINISTRATOR}`,
    );
  }
  if (await captureGuardDutyBaseline(ctx.engine, region, 'replay'))
    ctx.notes.push(`the engine captured ${region}'s GuardDuty baseline`);
  return { guardduty, detectorId };
}

/** The event with its detector id (and IP set id) mapped onto the emulator's. */
function mapped(event: CloudTrailEvent, ctx: ReenactContext, detectorId: string, extra: Record<string, string> = {}) {
  const was = String(params(event).detectorId);
  if (was !== detectorId) ctx.notes.push(`the event's detector ${was} is mapped onto the emulator's ${detectorId}`);
  return {
    ...event,
    detail: {
      ...event.detail,
      requestParameters: { ...params(event), detectorId, ...extra },
      ...(event.detail.eventName === 'CreateIPSet' && extra.ipSetId
        ? { responseElements: { ipSetId: extra.ipSetId } }
        : {}),
    },
  } as CloudTrailEvent;
}

function onConfiguredDetector(
  call: (c: Configured, event: CloudTrailEvent, ctx: ReenactContext) => Promise<Record<string, string> | undefined>,
): Reenactment {
  return async (event, ctx) => {
    const region = event.detail.awsRegion;
    const configured = await configuredDetector(ctx, region);
    const extra = (await call(configured, event, ctx)) ?? {};
    return mapped(event, ctx, configured.detectorId, extra);
  };
}

/** UpdateDetector's request members (CloudTrail records them lower-camel) as the SDK takes them. */
function updateInput(event: CloudTrailEvent, detectorId: string): UpdateDetectorCommandInput {
  const p = params(event);
  const features = Array.isArray(p.features) ? (p.features as { name?: string; status?: string }[]) : undefined;
  return {
    DetectorId: detectorId,
    ...(typeof p.enable === 'boolean' ? { Enable: p.enable } : {}),
    ...(typeof p.findingPublishingFrequency === 'string'
      ? { FindingPublishingFrequency: p.findingPublishingFrequency as never }
      : {}),
    ...(features ? { Features: features.map((f) => ({ Name: f.name as never, Status: f.status as never })) } : {}),
  };
}

export const guarddutyReenactments: Record<string, Reenactment> = {
  'aws.guardduty:DeleteDetector': onConfiguredDetector(async ({ guardduty, detectorId }) => {
    await guardduty.send(new DeleteDetectorCommand({ DetectorId: detectorId }));
    return undefined;
  }),
  'aws.guardduty:UpdateDetector': onConfiguredDetector(async ({ guardduty, detectorId }, event) => {
    await guardduty.send(new UpdateDetectorCommand(updateInput(event, detectorId)));
    return undefined;
  }),
  'aws.guardduty:DisassociateFromAdministratorAccount': onConfiguredDetector(async ({ guardduty, detectorId }) => {
    await guardduty.send(new DisassociateFromAdministratorAccountCommand({ DetectorId: detectorId }));
    return undefined;
  }),
  'aws.guardduty:DisassociateFromMasterAccount': onConfiguredDetector(async ({ guardduty, detectorId }) => {
    await guardduty.send(new DisassociateFromMasterAccountCommand({ DetectorId: detectorId }));
    return undefined;
  }),
  'aws.guardduty:CreateFilter': onConfiguredDetector(async ({ guardduty, detectorId }, event) => {
    const p = params(event);
    const criterion = (p.findingCriteria as { criterion?: Record<string, Record<string, unknown>> } | undefined)
      ?.criterion;
    await guardduty.send(
      new CreateFilterCommand({
        DetectorId: detectorId,
        Name: String(p.name),
        Action: String(p.action ?? 'NOOP') as never,
        ...(typeof p.rank === 'number' ? { Rank: p.rank } : {}),
        FindingCriteria: {
          Criterion: Object.fromEntries(
            Object.entries(criterion ?? { severity: { gte: 0 } }).map(([field, c]) => [
              field,
              { ...(c.gte !== undefined ? { Gte: Number(c.gte) } : {}), ...(c.eq ? { Eq: c.eq as string[] } : {}) },
            ]),
          ),
        },
      }),
    );
    return undefined;
  }),
  'aws.guardduty:UpdateFilter': onConfiguredDetector(async ({ guardduty, detectorId }, event) => {
    const p = params(event);
    await guardduty.send(
      new UpdateFilterCommand({
        DetectorId: detectorId,
        FilterName: String(p.filterName),
        ...(p.action ? { Action: String(p.action) as never } : {}),
      }),
    );
    return undefined;
  }),
  'aws.guardduty:CreateIPSet': onConfiguredDetector(async ({ guardduty, detectorId }, event) => {
    const p = params(event);
    const { IpSetId } = await guardduty.send(
      new CreateIPSetCommand({
        DetectorId: detectorId,
        Name: String(p.name),
        Format: String(p.format ?? 'TXT') as never,
        Location: String(p.location),
        Activate: p.activate === true,
      }),
    );
    return { ipSetId: String(IpSetId) };
  }),
  'aws.guardduty:UpdateIPSet': onConfiguredDetector(async ({ guardduty, detectorId }, event, ctx) => {
    // The configured detector's own (inactive) list stands in for the event's.
    const { IpSetIds = [] } = await guardduty.send(new ListIPSetsCommand({ DetectorId: detectorId }));
    const ipSetId = String(IpSetIds[0]);
    ctx.notes.push(`the event's IP set ${String(params(event).ipSetId)} is mapped onto the emulator's ${ipSetId}`);
    await guardduty.send(
      new UpdateIPSetCommand({ DetectorId: detectorId, IpSetId: ipSetId, Activate: params(event).activate !== false }),
    );
    return { ipSetId };
  }),
  'aws.guardduty:DeletePublishingDestination': onConfiguredDetector(async ({ guardduty, detectorId }, _event, ctx) => {
    const { Destinations = [] } = await guardduty.send(
      new ListPublishingDestinationsCommand({ DetectorId: detectorId }),
    );
    const destinationId = Destinations[0]?.DestinationId;
    if (destinationId === undefined)
      throw new Error(`the detector in the emulator has no publishing destination to delete`);
    ctx.notes.push(`the event's publishing destination is mapped onto the emulator's ${destinationId}`);
    await guardduty.send(
      new DeletePublishingDestinationCommand({ DetectorId: detectorId, DestinationId: destinationId }),
    );
    return { destinationId };
  }),
};
