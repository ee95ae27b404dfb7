/**
 * One drift per rule, made real on the emulator, with the resource's state read back: what the handler tests run
 * each semantics on (retries, repeated deliveries, notify mode) for every guard.
 */

import { DescribeKeyCommand, GetKeyPolicyCommand, GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import { createAwsClients } from '../../lib/aws.js';
import { readRegionRecording } from '../../lib/config-recording.js';
import type { CloudTrailEvent } from '../../lib/envelope.js';
import type { Guard } from '../../lib/guard.js';
import { configGuard } from '../../lib/guards/config-guard.js';
import { kmsGuard } from '../../lib/guards/kms-guard.js';
import { logGroupGuard } from '../../lib/guards/log-group-guard.js';
import { mfaGuard } from '../../lib/guards/mfa-guard.js';
import { trailGuard } from '../../lib/guards/trail-guard.js';
import { loadSettings } from '../../lib/settings.js';
import { readTrail } from '../../lib/trails.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { describeGroup, readIamUserState, testEndpoint } from './emulator.js';
import { CallRecorder, contextFor, guardHandler, reenacted, sampleEvent } from './handler-harness.js';

export interface RuleScenario {
  label: string;
  guard: Guard;
  /** The drift made real; the event as the handler receives it. */
  prepare(): Promise<CloudTrailEvent>;
  /** The first write of the fix, as the call recorder names it (where a fault is injected). */
  fix: string;
  /** The first read its rule makes (before the event is claimed). */
  firstRead: string;
  /** The resource's state as the emulator reports it. */
  readState(event: CloudTrailEvent): Promise<Record<string, unknown>>;
  /** Whether that state is the fixed one. */
  isFixed(state: Record<string, unknown>): boolean;
}

const quarantined = (state: Record<string, unknown>) =>
  (state.policies as string[]).includes(String(loadSettings().mfaQuarantinePolicyArn));

function keyOf(event: CloudTrailEvent): string {
  const arn = event.detail.resources?.find((resource) => resource.type === 'AWS::KMS::Key')?.ARN;
  if (!arn) throw new Error('the reenacted KMS event names no key');
  return arn;
}

const trailName = (event: CloudTrailEvent) => String(event.detail.requestParameters?.name).split('/').pop() ?? '';

export const LOG_GROUP_SCENARIO: RuleScenario = {
  label: 'log group created plain (CreateLogGroup)',
  guard: logGroupGuard,
  prepare: () => reenacted(sampleEvent('logs-CreateLogGroup-plain')),
  fix: 'CloudWatchLogs:AssociateKmsKey',
  firstRead: 'CloudWatchLogs:DescribeLogGroups',
  async readState(event) {
    const group = await describeGroup(String(event.detail.requestParameters?.logGroupName), event.detail.awsRegion);
    return { kmsKeyId: group?.kmsKeyId, retentionInDays: group?.retentionInDays };
  },
  isFixed: (state) => state.kmsKeyId !== undefined && state.retentionInDays === 365,
};

export const TRAIL_SCENARIO: RuleScenario = {
  label: 'trail stopped (StopLogging)',
  guard: trailGuard,
  prepare: () => reenacted(sampleEvent('cloudtrail-StopLogging')),
  fix: 'CloudTrail:StartLogging',
  firstRead: 'CloudTrail:DescribeTrails',
  async readState(event) {
    return { ...(await readTrail(createAwsClients(), trailName(event), event.detail.awsRegion)) };
  },
  isFixed: (state) => state.isLogging === true,
};

export const KMS_SCENARIO: RuleScenario = {
  label: 'key in use disabled (DisableKey)',
  guard: kmsGuard,
  prepare: () => reenacted(sampleEvent('kms-DisableKey')),
  fix: 'KMS:EnableKey',
  firstRead: 'KMS:DescribeKey',
  async readState(event) {
    const kms = new KMSClient(emulatorClientConfig(testEndpoint(), event.detail.awsRegion));
    const KeyId = keyOf(event);
    const [{ KeyMetadata }, { KeyRotationEnabled }, { Policy }] = await Promise.all([
      kms.send(new DescribeKeyCommand({ KeyId })),
      kms.send(new GetKeyRotationStatusCommand({ KeyId })),
      kms.send(new GetKeyPolicyCommand({ KeyId, PolicyName: 'default' })),
    ]);
    return { keyState: KeyMetadata?.KeyState, deletionDate: KeyMetadata?.DeletionDate, KeyRotationEnabled, Policy };
  },
  isFixed: (state) => state.keyState === 'Enabled',
};

/** A user quarantined by the MFA guard after the sample's drift. */
const quarantineScenario = (label: string, sample: string, userName: string): RuleScenario => ({
  label,
  guard: mfaGuard,
  prepare: () => reenacted(sampleEvent(sample)),
  fix: 'IAM:AttachUserPolicy',
  firstRead: 'IAM:ListMFADevices',
  readState: () => readIamUserState(userName),
  isFixed: quarantined,
});

export const MFA_SCENARIO = quarantineScenario(
  'IAM user lost MFA (DeactivateMFADevice)',
  'iam-DeactivateMFADevice-iam-user',
  'bob',
);

export const SIGN_IN_SCENARIO = quarantineScenario(
  'IAM user signed in without MFA (ConsoleLogin)',
  'signin-ConsoleLogin-no-MFA-iam-user',
  'dave',
);

/** A quarantined user enrols a device again: the release (the quarantine made by the guard in enforce mode). */
export const MFA_RELEASE_SCENARIO: RuleScenario = {
  label: 'quarantined IAM user enrolled MFA again (EnableMFADevice)',
  guard: mfaGuard,
  async prepare() {
    const lost = await MFA_SCENARIO.prepare();
    const quarantine = await guardHandler(mfaGuard, new CallRecorder(), { ...loadSettings(), mode: 'enforce' })(
      lost,
      contextFor(mfaGuard, lost),
    );
    if (quarantine.outcome !== 'remediated') throw new Error(`bob was not quarantined: ${quarantine.reason}`);
    return reenacted(sampleEvent('iam-EnableMFADevice'));
  },
  fix: 'IAM:DetachUserPolicy',
  firstRead: 'IAM:ListMFADevices',
  readState: () => readIamUserState('bob'),
  isFixed: (state) => !quarantined(state),
};

export const CONFIG_SCENARIO: RuleScenario = {
  label: 'AWS Config recorder stopped (StopConfigurationRecorder)',
  guard: configGuard,
  prepare: () => reenacted(sampleEvent('config-StopConfigurationRecorder')),
  fix: 'ConfigService:StartConfigurationRecorder',
  firstRead: 'ConfigService:DescribeConfigurationRecorders',
  async readState(event) {
    return { ...(await readRegionRecording(createAwsClients(), event.detail.awsRegion)) };
  },
  isFixed: (state) => state.recording === true,
};

/** A drift of every rule of every guard, with the sign-in rule as its own. */
export const RULE_SCENARIOS: RuleScenario[] = [
  LOG_GROUP_SCENARIO,
  TRAIL_SCENARIO,
  KMS_SCENARIO,
  MFA_SCENARIO,
  SIGN_IN_SCENARIO,
  CONFIG_SCENARIO,
];
