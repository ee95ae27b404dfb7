/**
 * Attack: a developer with iam:CreateRole names a role like the engine's (driftguard-dev-x, driftguard-prod-anything)
 * and drifts through it, hoping to be taken for the engine. The engine knows itself by its roles' exact ARNs only:
 * the impostor's drift is remediated through the handler and notified; the engine's own exact role is still ignored;
 * and the packaged EventBridge patterns (as deployed, EventBridge TestEventPattern on the emulator) deliver the
 * impostor's events and drop the engine's.
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CloudTrailEvent } from '../../../lib/envelope.js';
import { logGroupGuard } from '../../../lib/guards/log-group-guard.js';
import { createGuardHandler } from '../../../lib/handler.js';
import { loadSettings } from '../../../lib/settings.js';
import { emulatorClientConfig } from '../../../scripts/provision.js';
import { describeGroup, freshEngine, readNotices, testEndpoint } from '../../support/emulator.js';
import {
  ACCOUNT,
  CallRecorder,
  contextFor,
  guardHandler,
  outsideStateTable,
  reenacted,
  sampleEvent,
} from '../../support/handler-harness.js';
import { assumedRole, madeBy } from '../../support/identities.js';
import { packageFreshClone, type Resource, resolveSubs } from '../../support/packaged-stack.js';

/** The dev stack's own roles, as the stack sets DRIFTGUARD_ENGINE_ROLE_ARNS. */
const ENGINE_ROLE_ARNS = ['log-group-guard', 'trail-guard', 'kms-guard', 'mfa-guard', 'sweep', 'backup'].map(
  (name) => `arn:aws:iam::${ACCOUNT}:role/driftguard-dev-${name}`,
);

const IMPOSTORS = ['driftguard-dev-x', 'driftguard-prod-anything', 'driftguard-dev-log-group-guard-x'];

/** The event as made through a session of the role. */
const byRole = (event: CloudTrailEvent, role: string) => madeBy(event, assumedRole(role, 'deploy-session'));

const engineSettings = () => loadSettings({ ...process.env, DRIFTGUARD_ENGINE_ROLE_ARNS: ENGINE_ROLE_ARNS.join(',') });

describe('an impostor role named like the engine’s, through the log-group guard’s handler', () => {
  beforeEach(async () => {
    await freshEngine();
  });

  it.each(IMPOSTORS)('%s creating an unencrypted log group is remediated and notified', async (role) => {
    // Prepare
    const event = await reenacted(byRole(sampleEvent('logs-CreateLogGroup-plain'), role));
    const recorder = new CallRecorder();
    const handler = guardHandler(logGroupGuard, recorder, engineSettings());

    // Act
    const result = await handler(event, contextFor(logGroupGuard, event));

    // Assess
    expect(result.outcome).toBe('remediated');
    const group = await describeGroup('/app/payments-api/prod');
    expect(group?.kmsKeyId).toMatch(/^arn:aws:kms:eu-west-1:123456789012:key\//);
    expect(group?.retentionInDays).toBe(365);
    const notices = await readNotices();
    expect(notices.map((notice) => notice.subject)).toEqual([
      // Under SNS's 100 characters: the subject is cut, the text says the rest.
      '[driftguard] MEDIUM /app/payments-api/prod CreateLogGroup by deploy-session: encrypted, ...',
    ]);
    expect(notices[0]?.text).toContain(`arn:aws:sts::${ACCOUNT}:assumed-role/${role}/deploy-session`);
  });

  it('the engine’s own exact role creating the same group is ignored: no read, no write, no notice', async () => {
    // Prepare
    const event = await reenacted(byRole(sampleEvent('logs-CreateLogGroup-plain'), 'driftguard-dev-log-group-guard'));
    const recorder = new CallRecorder();
    const handler = guardHandler(logGroupGuard, recorder, engineSettings());

    // Act
    const result = await handler(event, contextFor(logGroupGuard, event));

    // Assess
    expect(result.outcome).toBe('ignored');
    expect(result.reason).toBe(
      `made by the engine itself (arn:aws:sts::${ACCOUNT}:assumed-role/driftguard-dev-log-group-guard/deploy-session): no loop`,
    );
    expect(outsideStateTable(recorder.calls)).toEqual([]);
    expect((await describeGroup('/app/payments-api/prod'))?.kmsKeyId).toBeUndefined();
    expect(await readNotices()).toEqual([]);
  });

  it('a stack still setting DRIFTGUARD_ENGINE_ROLE_PREFIX starts, warns once that it is ignored, and excludes nothing by it', async () => {
    // Prepare
    vi.stubEnv('DRIFTGUARD_ENGINE_ROLE_PREFIX', 'driftguard-dev-');
    const logger = new Logger({ logLevel: 'SILENT' });
    const warn = vi.spyOn(logger, 'warn');
    const event = await reenacted(byRole(sampleEvent('logs-CreateLogGroup-plain'), 'driftguard-dev-x'));
    const recorder = new CallRecorder();

    // Act
    const handler = createGuardHandler(logGroupGuard, { settings: engineSettings(), aws: recorder.aws, logger });
    const result = await handler(event, contextFor(logGroupGuard, event));
    vi.unstubAllEnvs();

    // Assess
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(
      /^DRIFTGUARD_ENGINE_ROLE_PREFIX is ignored: .*DRIFTGUARD_ENGINE_ROLE_ARNS$/,
    );
    expect(result.outcome).toBe('remediated');
  });
});

describe('the packaged patterns (as deployed in the samples’ account), by EventBridge TestEventPattern', () => {
  let rules: Resource[];
  const eventBridge = () => new EventBridgeClient(emulatorClientConfig(testEndpoint(), 'us-east-1'));

  beforeAll(() => {
    const resources: Record<string, Resource> = packageFreshClone(['us-east-1'])['us-east-1']?.Resources ?? {};
    rules = Object.values(resources).filter(
      (resource) => resource.Type === 'AWS::Events::Rule' && resource.Properties.EventPattern !== undefined,
    );
  }, 120_000);

  /** The names of the rules whose deployed pattern matches the event. */
  async function matchingRules(event: CloudTrailEvent): Promise<string[]> {
    const matched: string[] = [];
    for (const rule of rules) {
      const pattern = resolveSubs(rule.Properties.EventPattern, { account: ACCOUNT, region: 'us-east-1' });
      const { Result } = await eventBridge().send(
        new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: JSON.stringify(event) }),
      );
      if (Result) matched.push(rule.Properties.Name);
    }
    return matched;
  }

  // One call of each source the guards handle.
  const SAMPLES: [string, string][] = [
    ['logs-CreateLogGroup-plain', 'driftguard-dev-logGroupGuard-rule-1'],
    ['cloudtrail-StopLogging', 'driftguard-dev-trailGuard-rule-1'],
    ['kms-DisableKey', 'driftguard-dev-kmsGuard-rule-1'],
    ['iam-DeactivateMFADevice-iam-user', 'driftguard-dev-mfaGuard-rule-1'],
    ['signin-ConsoleLogin-no-MFA-iam-user', 'driftguard-dev-mfaGuard-rule-2'],
  ];

  it.each(SAMPLES.flatMap(([sample, rule]) => IMPOSTORS.map((role) => [sample, role, rule])))(
    '%s by %s reaches its guard (%s)',
    async (sample, role, rule) => {
      // Act
      const matched = await matchingRules(byRole(sampleEvent(sample), role));

      // Assess
      expect(matched).toEqual([rule]);
    },
  );

  it.each(SAMPLES.flatMap(([sample]) => ENGINE_ROLE_ARNS.map((arn) => [sample, arn.split('/').pop() as string])))(
    '%s by the engine’s own %s reaches no guard',
    async (sample, role) => {
      // Act
      const matched = await matchingRules(byRole(sampleEvent(sample), role));

      // Assess
      expect(matched).toEqual([]);
    },
  );

  it('exclude the engine by exact ARN, never by a name prefix', () => {
    const text = JSON.stringify(rules.map((rule) => rule.Properties.EventPattern));
    expect(text).not.toContain('prefix');
    expect(text).not.toContain('userName');
    expect(readFileSync('serverless.yml', 'utf8')).not.toContain('ENGINE_ROLE_PREFIX');
  });
});
