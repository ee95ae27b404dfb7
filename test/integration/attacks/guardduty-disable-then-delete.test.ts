/**
 * Attack: someone with ordinary GuardDuty permissions blinds the account in a region far from home, first suspending
 * the detector (hoping the engine's fix is slow, or that a later capture takes the suspended state as the baseline),
 * then deleting it; and does so through a role named like the engine's guard, hoping to be taken for the engine. The
 * engine knows itself by exact role ARNs only: both calls are handled, the baseline never follows the suspended
 * detector, and the region ends with one enabled detector with the baseline's features, frequency, tags, filter and
 * export.
 */
import { GuardDutyClient, ListDetectorsCommand } from '@aws-sdk/client-guardduty';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../lib/aws.js';
import { GuardDutyBaselineStore, readDetector } from '../../../lib/guardduty-baselines.js';
import { loadSettings } from '../../../lib/settings.js';
import { emulatorClientConfig } from '../../../scripts/provision.js';
import { runReplay } from '../../../scripts/replay.js';
import { anotherEvent, freshEngine, testEndpoint } from '../../support/emulator.js';

const REGION = 'ap-southeast-2';
const IMPOSTOR = 'driftguard-dev-guardduty-guard-x';
/** The samples' actor, a role session, re-made as a session of a role named like the engine's guard. */
const BY_IMPOSTOR: [string, string][] = [
  ['aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_0123456789abcdef', IMPOSTOR],
  ['AWSReservedSSO_AdministratorAccess_0123456789abcdef', IMPOSTOR],
];

describe('GuardDuty suspended then deleted in a non-home region by a role named like the engine’s', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it('is undone step by step: one enabled detector as the baseline says, the baseline unweakened', async () => {
    // Prepare
    const suspend = anotherEvent('events/guardduty-UpdateDetector-disable.json', 'attack', [
      ...BY_IMPOSTOR,
      ['eu-west-1', REGION],
    ]);
    const remove = anotherEvent('events/guardduty-DeleteDetector-ap-southeast-2.json', 'attack', BY_IMPOSTOR);

    // Act
    const report = await runReplay({
      files: [suspend, remove],
      endpoint: testEndpoint(),
      reenact: true,
      json: true,
      print: () => undefined,
    });

    // Assess
    expect(report.items.map((item) => item.result.outcome)).toEqual(['remediated', 'needs-human']);
    expect(report.items[0]?.result.actions).toEqual([
      { api: 'guardduty:UpdateDetector', params: { DetectorId: expect.any(String), Enable: true } },
    ]);
    const ctx = { settings: loadSettings(), aws: createAwsClients() };
    const baseline = await new GuardDutyBaselineStore(ctx.aws, ctx.settings.stateTable).get(REGION);
    expect(baseline?.config.enabled).toBe(true);
    const { DetectorIds = [] } = await new GuardDutyClient(emulatorClientConfig(testEndpoint(), REGION)).send(
      new ListDetectorsCommand({}),
    );
    expect(DetectorIds).toHaveLength(1);
    const now = await readDetector(ctx.aws, REGION);
    expect(now).toMatchObject({
      enabled: true,
      features: baseline?.config.features,
      findingPublishingFrequency: 'FIFTEEN_MINUTES',
      tags: baseline?.config.tags,
      filters: baseline?.config.filters,
      destinations: baseline?.config.destinations,
    });
  });
});
