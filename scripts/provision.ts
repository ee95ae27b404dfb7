/**
 * Creates the engine's own resources on an emulator (what serverless.yml creates in an account): the log key with its
 * CloudWatch Logs policy in every region, the encrypted notice topic, and a queue subscribed to it so notices can be read.
 */

import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreatePolicyCommand,
  CreateRoleCommand,
  GetPolicyCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { CreateBucketCommand, HeadBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, GetTopicAttributesCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { stateRegion } from '../lib/aws.js';
import { BACKUP_PREFIX, backupBucketPolicy } from '../lib/backup/stack.js';
import { logsStatement, type PolicyStatement } from '../lib/key-policy.js';
import { engineRoleNames } from '../lib/manifest.js';
import { mfaQuarantinePolicyDocument } from '../lib/mfa/quarantine-policy.js';
import { GUARDS } from '../lib/registry.js';
import { forwardRoleDocuments } from '../lib/rules/region-forwarders.js';
import { emulatorClientConfig, emulatorCredentials } from './emulator/client.js';

// Scripts and tests that provision an emulator also build clients for it.
export { emulatorClientConfig, emulatorCredentials } from './emulator/client.js';

/** The regions enabled by default in every account; the log key is created in each, under one alias. */
export const DEFAULT_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'sa-east-1',
];

export const LOCAL_LOG_KEY_ALIAS = 'alias/driftguard-local-logs';
export const LOCAL_STATE_TABLE = 'driftguard-local-state';
/** The emulator's name for the policy serverless.yml creates as driftguard-<stage>-mfa-quarantine. */
export const LOCAL_MFA_QUARANTINE_POLICY = 'driftguard-local-mfa-quarantine';

/** The emulator's backup bucket of a region (the stack's is driftguard-<stage>-backup-<account>-<region>). */
export const localBackupBucket = (region: string) => `driftguard-local-backup-${region}`;

/** Creates the backup bucket with the stack's policy (CloudWatch Logs of the region may export to it, for this account). */
export async function provisionBackupBucket(
  endpoint: string,
  region: string,
  account: string,
  bucket = localBackupBucket(region),
) {
  const s3 = new S3Client({ ...emulatorClientConfig(endpoint, region), forcePathStyle: true });
  await s3
    .send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
    )
    .catch((error: Error) => {
      if (error.name !== 'BucketAlreadyOwnedByYou') throw error;
    });
  const policy = backupBucketPolicy({ partition: 'aws', bucket, region, account, prefix: BACKUP_PREFIX });
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
  return { DRIFTGUARD_BACKUP_BUCKET: bucket };
}

/** The emulator's names for the forward role and the forwarders serverless.yml names driftguard-<stage>-forward. */
export const LOCAL_FORWARDER_NAME = 'driftguard-local-forward';

/** The settings that point the sweep at the forward role of this account. */
function forwarderSettings(roleArn: string): Record<string, string> {
  return { DRIFTGUARD_FORWARD_ROLE_ARN: roleArn, DRIFTGUARD_FORWARDER_NAME: LOCAL_FORWARDER_NAME };
}

/**
 * Creates the forward role serverless.yml creates (EventBridge may put events on the home region's default bus, and
 * nothing else); returns the settings that point the sweep's forwarders at it.
 */
export async function provisionForwardRole(endpoint: string, home: string): Promise<Record<string, string>> {
  const config = emulatorClientConfig(endpoint, 'us-east-1');
  const { Account } = await new STSClient(config).send(new GetCallerIdentityCommand({}));
  const iam = new IAMClient(config);
  const documents = forwardRoleDocuments(Account, `arn:aws:events:${home}:${Account}:event-bus/default`);
  let arn = `arn:aws:iam::${Account}:role/${LOCAL_FORWARDER_NAME}`;
  await iam
    .send(
      new CreateRoleCommand({
        RoleName: LOCAL_FORWARDER_NAME,
        AssumeRolePolicyDocument: JSON.stringify(documents.trust),
        Description:
          "driftguard local: EventBridge forwards the other regions' events to the home region's default bus",
      }),
    )
    .then(({ Role }) => {
      arn = Role?.Arn ?? arn;
    })
    .catch((error: Error) => {
      if (!error.name.startsWith('EntityAlreadyExists')) throw error;
    });
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: LOCAL_FORWARDER_NAME,
      PolicyName: 'put-events-home',
      PolicyDocument: JSON.stringify(documents.policy),
    }),
  );
  return forwarderSettings(arn);
}

export interface ProvisionOptions {
  endpoint: string;
  /** Home region of the topic and queue. */
  region?: string;
  /** Regions that get the log key (default: every default region). */
  keyRegions?: string[];
}

/** The key policy serverless.yml gives the stack's key: CloudWatch Logs may use it for this account's log groups. */
export function logKeyPolicy(account: string, region: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [accountAdministers(account), logsStatement(region, account).statement],
  });
}

/** The account's own IAM policies decide who else may use the key (AWS's default key policy statement). */
export function accountAdministers(account: string): PolicyStatement {
  return {
    Sid: 'AccountAdministers',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${account}:root` },
    Action: 'kms:*',
    Resource: '*',
  };
}

/** Creates a customer key usable by CloudWatch Logs in the region; returns its ARN. */
export async function createLogKey(
  endpoint: string,
  region: string,
  account: string,
  description: string,
  { multiRegion = false } = {},
) {
  const kms = new KMSClient(emulatorClientConfig(endpoint, region));
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ Description: description, Policy: logKeyPolicy(account, region), MultiRegion: multiRegion }),
  );
  if (!KeyMetadata?.KeyId || !KeyMetadata.Arn) throw new Error(`CreateKey in ${region} returned no key`);
  await kms.send(new EnableKeyRotationCommand({ KeyId: KeyMetadata.KeyId }));
  return { kms, keyId: KeyMetadata.KeyId, arn: KeyMetadata.Arn };
}

/** Creates the quarantine policy serverless.yml creates, on the emulator; returns the setting that points at it. */
export async function provisionMfaQuarantinePolicy(endpoint: string): Promise<Record<string, string>> {
  const config = emulatorClientConfig(endpoint, 'us-east-1');
  const { Account } = await new STSClient(config).send(new GetCallerIdentityCommand({}));
  let arn = `arn:aws:iam::${Account}:policy/${LOCAL_MFA_QUARANTINE_POLICY}`;
  await new IAMClient(config)
    .send(
      new CreatePolicyCommand({
        PolicyName: LOCAL_MFA_QUARANTINE_POLICY,
        Description: 'driftguard: denies all but enrolling an MFA device and changing the password while MFA is absent',
        PolicyDocument: JSON.stringify(mfaQuarantinePolicyDocument),
      }),
    )
    .then(({ Policy }) => {
      arn = Policy?.Arn ?? arn;
    })
    .catch((error: Error) => {
      if (!error.name.startsWith('EntityAlreadyExists')) throw error;
    });
  return { DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN: arn };
}

export async function provisionEngineResources(opts: ProvisionOptions): Promise<Record<string, string>> {
  const region = opts.region ?? 'us-east-1';
  const config = emulatorClientConfig(opts.endpoint, region);
  const { Account: account } = await new STSClient(config).send(new GetCallerIdentityCommand({}));
  if (!account) throw new Error('GetCallerIdentity returned no account');

  const keyRegions = [...new Set([region, ...(opts.keyRegions ?? DEFAULT_REGIONS)])];
  const homeKeyArns = await Promise.all(
    keyRegions.map(async (keyRegion) => {
      const { kms, keyId, arn } = await createLogKey(opts.endpoint, keyRegion, account, 'driftguard local log key');
      await kms.send(new CreateAliasCommand({ AliasName: LOCAL_LOG_KEY_ALIAS, TargetKeyId: keyId }));
      return { keyRegion, arn };
    }),
  );
  const homeKey = homeKeyArns.find((key) => key.keyRegion === region)?.arn as string;

  const sns = new SNSClient(config);
  const { TopicArn } = await sns.send(
    new CreateTopicCommand({ Name: 'driftguard-local-notices', Attributes: { KmsMasterKeyId: homeKey } }),
  );
  const sqs = new SQSClient(config);
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'driftguard-local-notice-inbox',
      Attributes: { SqsManagedSseEnabled: 'true' },
    }),
  );
  if (!TopicArn || !QueueUrl) throw new Error('CreateTopic/CreateQueue returned no ARN/URL');
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));

  await new DynamoDBClient(config).send(
    new CreateTableCommand({
      TableName: LOCAL_STATE_TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      SSESpecification: { Enabled: true },
    }),
  );

  return {
    ...(await provisionBackupBucket(opts.endpoint, region, account)),
    ...(await provisionMfaQuarantinePolicy(opts.endpoint)),
    ...(await provisionForwardRole(opts.endpoint, region)),
    DRIFTGUARD_STATE_TABLE: LOCAL_STATE_TABLE,
    DRIFTGUARD_LOG_KMS_KEY: LOCAL_LOG_KEY_ALIAS,
    DRIFTGUARD_NOTICE_TOPIC_ARN: TopicArn,
    DRIFTGUARD_NOTICE_QUEUE_URL: QueueUrl,
    DRIFTGUARD_ENGINE_ROLE_ARNS: localEngineRoleArns(account),
  };
}

/** The emulator plays the dev stack: its roles' exact ARNs are the engine's own (the samples' "by the engine"). */
export function localEngineRoleArns(account: string): string {
  return engineRoleNames('driftguard-dev', GUARDS)
    .map((name) => `arn:aws:iam::${account}:role/${name}`)
    .join(',');
}

/**
 * The settings of resources an earlier provisioning left on this endpoint (npm run emulator -- --provision), for the
 * variables the user did not set; empty where nothing was provisioned.
 */
export async function findProvisionedSettings(endpoint: string, region = 'us-east-1'): Promise<Record<string, string>> {
  const config = emulatorClientConfig(endpoint, region);
  const found: Record<string, string> = {};
  const { Account: account } = await new STSClient(config).send(new GetCallerIdentityCommand({}));
  const topicArn = `arn:aws:sns:${region}:${account}:driftguard-local-notices`;
  const lookups = [
    new IAMClient(config)
      .send(new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${account}:policy/${LOCAL_MFA_QUARANTINE_POLICY}` }))
      .then(({ Policy }) => {
        if (Policy?.Arn) found.DRIFTGUARD_MFA_QUARANTINE_POLICY_ARN = Policy.Arn;
      }),
    new IAMClient(config).send(new GetRoleCommand({ RoleName: LOCAL_FORWARDER_NAME })).then(({ Role }) => {
      if (Role?.Arn) Object.assign(found, forwarderSettings(Role.Arn));
    }),
    new DynamoDBClient(config).send(new DescribeTableCommand({ TableName: LOCAL_STATE_TABLE })).then(() => {
      found.DRIFTGUARD_STATE_TABLE = LOCAL_STATE_TABLE;
      found.DRIFTGUARD_ENGINE_ROLE_ARNS = localEngineRoleArns(account as string);
    }),
    new S3Client({ ...config, forcePathStyle: true })
      .send(new HeadBucketCommand({ Bucket: localBackupBucket(region) }))
      .then(() => {
        found.DRIFTGUARD_BACKUP_BUCKET = localBackupBucket(region);
      }),
    new KMSClient(config).send(new DescribeKeyCommand({ KeyId: LOCAL_LOG_KEY_ALIAS })).then(() => {
      found.DRIFTGUARD_LOG_KMS_KEY = LOCAL_LOG_KEY_ALIAS;
    }),
    new SNSClient(config).send(new GetTopicAttributesCommand({ TopicArn: topicArn })).then(() => {
      found.DRIFTGUARD_NOTICE_TOPIC_ARN = topicArn;
    }),
    new SQSClient(config)
      .send(new GetQueueUrlCommand({ QueueName: 'driftguard-local-notice-inbox' }))
      .then(({ QueueUrl }) => {
        if (QueueUrl) found.DRIFTGUARD_NOTICE_QUEUE_URL = QueueUrl;
      }),
  ];
  // A lookup that fails means that resource was not provisioned here.
  await Promise.allSettled(lookups);
  return found;
}

/**
 * The region where `table` is on this endpoint: the region the CLI looks in first, else the first default region that
 * has it (the emulator's provisioning puts it in us-east-1 whatever region the CLI runs in); undefined when none has.
 */
export async function findTableRegion(endpoint: string, table: string, first: string): Promise<string | undefined> {
  const regions = [...new Set([first, ...DEFAULT_REGIONS])];
  const present = await Promise.all(
    regions.map((region) =>
      new DynamoDBClient(emulatorClientConfig(endpoint, region))
        .send(new DescribeTableCommand({ TableName: table }))
        .then(
          () => true,
          () => false,
        ),
    ),
  );
  return regions.find((_, index) => present[index]);
}

/**
 * Points this process's SDK clients and engine settings at an emulator: a fresh one is provisioned where the CLI looks
 * (its own region) and its settings win; on a running one, what `npm run emulator -- --provision` left there fills the
 * settings not set, DRIFTGUARD_STATE_REGION included when the state table is in another region than the CLI's.
 * Returns the settings applied.
 */
export async function useEndpoint(endpoint: string, fresh: boolean): Promise<Record<string, string>> {
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_ACCESS_KEY_ID ??= emulatorCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= emulatorCredentials.secretAccessKey;
  process.env.AWS_REGION ??= 'us-east-1';
  if (fresh) {
    const provisioned = await provisionEngineResources({ endpoint, region: stateRegion() });
    Object.assign(process.env, provisioned);
    return provisioned;
  }
  const looked = stateRegion();
  const home = process.env.DRIFTGUARD_STATE_REGION
    ? looked
    : ((await findTableRegion(endpoint, process.env.DRIFTGUARD_STATE_TABLE || LOCAL_STATE_TABLE, looked)) ?? looked);
  const found: Record<string, string> = {
    ...(home === looked ? {} : { DRIFTGUARD_STATE_REGION: home }),
    ...(await findProvisionedSettings(endpoint, home)),
  };
  // The provisioned inbox is subscribed to the provisioned topic only: with a topic of the user's own it gets nothing.
  const topic = process.env.DRIFTGUARD_NOTICE_TOPIC_ARN || found.DRIFTGUARD_NOTICE_TOPIC_ARN;
  if (topic !== found.DRIFTGUARD_NOTICE_TOPIC_ARN) delete found.DRIFTGUARD_NOTICE_QUEUE_URL;
  const applied: Record<string, string> = {};
  for (const [name, value] of Object.entries(found)) {
    if (process.env[name]) continue;
    process.env[name] = value;
    applied[name] = value;
  }
  return applied;
}
