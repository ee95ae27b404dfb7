/** The deploy-time baseline capture: what it reads and stores on Create, and that CloudFormation always gets an answer. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetInsightSelectorsCommand,
  GetTrailStatusCommand,
  ListTagsCommand,
} from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import {
  answerCloudFormation,
  CloudFormationAnswerError,
  type CustomResourceRequest,
} from '../../lib/custom-resource.js';
import { handleCaptureResource } from '../../lib/deploy-capture.js';
import { TRAIL_CAPTURE } from '../../lib/guards/trail-guard.js';
import type { RuleContext } from '../../lib/rule.js';
import type { TrailConfig } from '../../lib/trails.js';
import { type ResponseUrl, startResponseUrl } from '../support/response-url.js';
import { ACCOUNT, settingsOf } from './fixtures.js';

const REGION = 'eu-west-1';
const NAME = 'org-audit-trail';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${NAME}`;
const OTHER_HOME_ARN = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/us-trail`;
const BUCKET = 'org-audit-logs-123456789012';
const TABLE = 'driftguard-state';
const RESPONSE_URL = 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/response?sig=abc';
const STACK_ID = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/driftguard/11111111-2222-3333-4444-555555555555`;

const cloudtrailMock = mockClient(CloudTrailClient);
const dynamodbMock = mockClient(DynamoDBClient);

function request(overrides: Partial<CustomResourceRequest> = {}): CustomResourceRequest {
  return {
    RequestType: 'Create',
    ResponseURL: RESPONSE_URL,
    StackId: STACK_ID,
    RequestId: 'req-0001',
    LogicalResourceId: 'TrailBaselineCapture',
    ...overrides,
  };
}

function context(env: Record<string, string> = { DRIFTGUARD_STATE_TABLE: TABLE }): RuleContext {
  return {
    // The stack's own ARN, as the template sets it: only its requests are served.
    settings: settingsOf({ DRIFTGUARD_STACK_ID: STACK_ID, ...env }),
    aws: createAwsClients({ maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
  };
}

function awsError(name: string, message: string) {
  return Object.assign(new Error(message), { name });
}

/** What CloudFormation was sent: the URL and the parsed body of each response. */
function answers(send: ReturnType<typeof responder>) {
  return send.mock.calls.map(([url, body]) => ({ url, body: JSON.parse(body) as unknown }));
}

function responder() {
  return vi.fn<(url: string, body: string) => Promise<unknown>>().mockResolvedValue(undefined);
}

function silentLogger() {
  return new Logger({ serviceName: 'driftguard-test', logLevel: 'SILENT' });
}

const storedConfig: TrailConfig = {
  name: NAME,
  trailArn: TRAIL_ARN,
  homeRegion: REGION,
  s3BucketName: BUCKET,
  includeGlobalServiceEvents: true,
  isMultiRegionTrail: true,
  logFileValidationEnabled: true,
  isOrganizationTrail: false,
  eventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [] }],
  insightSelectors: [],
  tags: [{ Key: 'team', Value: 'security' }],
  isLogging: true,
};

describe('handleCaptureResource', () => {
  beforeEach(() => {
    cloudtrailMock.reset();
    dynamodbMock.reset();
    cloudtrailMock.on(DescribeTrailsCommand).resolves({
      trailList: [
        {
          Name: NAME,
          TrailARN: TRAIL_ARN,
          HomeRegion: REGION,
          S3BucketName: BUCKET,
          S3KeyPrefix: '',
          IncludeGlobalServiceEvents: true,
          IsMultiRegionTrail: true,
          LogFileValidationEnabled: true,
          IsOrganizationTrail: false,
        },
        // A multi-region trail homed elsewhere is captured in its home region, not here.
        { Name: 'us-trail', TrailARN: OTHER_HOME_ARN, HomeRegion: 'us-east-1', S3BucketName: BUCKET },
      ],
    });
    cloudtrailMock.on(GetTrailStatusCommand).resolves({ IsLogging: true });
    cloudtrailMock
      .on(GetEventSelectorsCommand)
      .resolves({ EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [] }] });
    cloudtrailMock
      .on(GetInsightSelectorsCommand)
      .rejects(awsError('InsightNotEnabledException', 'Trail has no insight selectors'));
    cloudtrailMock
      .on(ListTagsCommand)
      .resolves({ ResourceTagList: [{ ResourceId: TRAIL_ARN, TagsList: [{ Key: 'team', Value: 'security' }] }] });
    dynamodbMock.on(PutItemCommand).resolves({});
  });

  it('captures the trails of the stack’s region on Create and answers SUCCESS', async () => {
    // Prepare
    const send = responder();

    // Act
    const result = await handleCaptureResource(TRAIL_CAPTURE, request(), context(), REGION, silentLogger(), send);

    // Assess
    expect(result).toEqual({ status: 'SUCCESS', reason: 'captured 1 trail baselines', captured: [TRAIL_ARN] });
    expect(answers(send)).toEqual([
      {
        url: RESPONSE_URL,
        body: {
          Status: 'SUCCESS',
          Reason: 'captured 1 trail baselines',
          PhysicalResourceId: `driftguard-trail-baselines-${REGION}`,
          StackId: STACK_ID,
          RequestId: 'req-0001',
          LogicalResourceId: 'TrailBaselineCapture',
          Data: { Captured: 1 },
        },
      },
    ]);
  });

  it('stores the whole configuration of the trail as its baseline, from "deploy"', async () => {
    // Act
    await handleCaptureResource(TRAIL_CAPTURE, request(), context(), REGION, silentLogger(), responder());

    // Assess
    const puts = dynamodbMock.commandCalls(PutItemCommand);
    expect(puts).toHaveLength(1);
    const input = puts[0]?.args[0].input;
    expect(input?.TableName).toBe(TABLE);
    expect(input?.Item).toMatchObject({
      pk: { S: `trail#${TRAIL_ARN}` },
      sk: { S: 'baseline' },
      trailName: { S: NAME },
    });
    expect(JSON.parse(input?.Item?.baseline?.S ?? 'null')).toEqual({
      config: storedConfig,
      capturedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      capturedFrom: 'deploy',
    });
  });

  it('reads the trail of the stack’s region only, by its ARN', async () => {
    // Act
    await handleCaptureResource(TRAIL_CAPTURE, request(), context(), REGION, silentLogger(), responder());

    // Assess
    expect(cloudtrailMock.commandCalls(DescribeTrailsCommand).map((call) => call.args[0].input)).toEqual([
      { includeShadowTrails: false },
      { trailNameList: [NAME], includeShadowTrails: false },
    ]);
    expect(cloudtrailMock.commandCalls(GetTrailStatusCommand).map((call) => call.args[0].input)).toEqual([
      { Name: TRAIL_ARN },
    ]);
    expect(cloudtrailMock.commandCalls(ListTagsCommand).map((call) => call.args[0].input)).toEqual([
      { ResourceIdList: [TRAIL_ARN] },
    ]);
  });

  it('answers SUCCESS with nothing captured when the region has no trail', async () => {
    // Prepare
    cloudtrailMock.on(DescribeTrailsCommand).resolves({ trailList: [] });
    const send = responder();

    // Act
    const result = await handleCaptureResource(TRAIL_CAPTURE, request(), context(), REGION, silentLogger(), send);

    // Assess
    expect(result).toEqual({ status: 'SUCCESS', reason: 'captured 0 trail baselines', captured: [] });
    expect(answers(send)[0]?.body).toMatchObject({ Status: 'SUCCESS', Data: { Captured: 0 } });
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  it.each(['Update', 'Delete'] as const)('answers SUCCESS to %s without any AWS call', async (RequestType) => {
    // Prepare
    const send = responder();
    const physicalId = `driftguard-trail-baselines-${REGION}`;

    // Act
    const result = await handleCaptureResource(
      TRAIL_CAPTURE,
      request({ RequestType, PhysicalResourceId: physicalId }),
      context(),
      REGION,
      silentLogger(),
      send,
    );

    // Assess
    expect(result).toEqual({ status: 'SUCCESS', reason: 'nothing to do', captured: [] });
    expect(answers(send)).toEqual([
      {
        url: RESPONSE_URL,
        body: {
          Status: 'SUCCESS',
          Reason: 'nothing to do',
          PhysicalResourceId: physicalId,
          StackId: STACK_ID,
          RequestId: 'req-0001',
          LogicalResourceId: 'TrailBaselineCapture',
          Data: { Captured: 0 },
        },
      },
    ]);
    expect(cloudtrailMock.calls()).toHaveLength(0);
    expect(dynamodbMock.calls()).toHaveLength(0);
  });

  it.each<{ label: string; fail: () => void; env?: Record<string, string>; reason: string }>([
    {
      label: 'DescribeTrails is refused',
      fail: () =>
        cloudtrailMock
          .on(DescribeTrailsCommand)
          .rejects(awsError('AccessDeniedException', 'not authorized to perform cloudtrail:DescribeTrails')),
      reason: 'baseline capture failed: not authorized to perform cloudtrail:DescribeTrails',
    },
    {
      label: 'GetTrailStatus fails',
      fail: () => cloudtrailMock.on(GetTrailStatusCommand).rejects(awsError('ThrottlingException', 'Rate exceeded')),
      reason: 'baseline capture failed: Rate exceeded',
    },
    {
      label: 'the state table refuses the write',
      fail: () =>
        dynamodbMock.on(PutItemCommand).rejects(awsError('ResourceNotFoundException', 'Requested resource not found')),
      reason: 'baseline capture failed: Requested resource not found',
    },
    {
      label: 'no state table is configured',
      fail: () => undefined,
      env: {},
      reason: 'baseline capture failed: DRIFTGUARD_STATE_TABLE is not set: trail baselines are kept in the state table',
    },
  ])('answers FAILED with the reason when $label', async ({ fail, env, reason }) => {
    // Prepare
    fail();
    const send = responder();
    const logger = silentLogger();
    const logged = vi.spyOn(logger, 'error');

    // Act
    const result = await handleCaptureResource(TRAIL_CAPTURE, request(), context(env), REGION, logger, send);

    // Assess
    expect(result).toEqual({ status: 'FAILED', reason, captured: [] });
    expect(answers(send)).toEqual([
      {
        url: RESPONSE_URL,
        body: {
          Status: 'FAILED',
          Reason: reason,
          PhysicalResourceId: `driftguard-trail-baselines-${REGION}`,
          StackId: STACK_ID,
          RequestId: 'req-0001',
          LogicalResourceId: 'TrailBaselineCapture',
          Data: { Captured: 0 },
        },
      },
    ]);
    expect(logged).toHaveBeenCalledWith('deploy-time baseline capture failed', expect.any(Error));
  });
});

describe('handleCaptureResource when CloudFormation does not take the answer', () => {
  beforeEach(() => {
    cloudtrailMock.reset();
    dynamodbMock.reset();
    cloudtrailMock.on(DescribeTrailsCommand).resolves({ trailList: [] });
  });

  it('logs the refusal and throws, so that the invocation fails and is tried again', async () => {
    // Prepare
    const refusal = new CloudFormationAnswerError('the answer was refused at https://example: HTTP 403');
    const send = vi.fn<(url: string, body: string) => Promise<unknown>>().mockRejectedValue(refusal);
    const logger = silentLogger();
    const logged = vi.spyOn(logger, 'error');

    // Act
    const act = handleCaptureResource(TRAIL_CAPTURE, request(), context(), REGION, logger, send);

    // Assess
    await expect(act).rejects.toThrow(
      new CloudFormationAnswerError('Create TrailBaselineCapture left unanswered', { cause: refusal }),
    );
    await expect(act).rejects.toHaveProperty('cause', refusal);
    expect(send).toHaveBeenCalledTimes(1);
    expect(logged).toHaveBeenCalledWith('CloudFormation did not take the answer', refusal);
  });
});

describe('answerCloudFormation', () => {
  let responseUrl: ResponseUrl;
  let base = '';

  beforeAll(async () => {
    responseUrl = await startResponseUrl();
    base = responseUrl.base;
  });

  afterAll(() => responseUrl.close());

  beforeEach(() => responseUrl.reset());

  it('PUTs the answer with an empty content type, as the pre-signed URL was signed', async () => {
    // Act
    await answerCloudFormation(`${base}/response?X-Amz-Signature=secret`, '{"Status":"SUCCESS"}');

    // Assess
    expect(responseUrl.received).toEqual([
      {
        method: 'PUT',
        path: '/response?X-Amz-Signature=secret',
        headers: expect.objectContaining({ 'content-type': '', 'content-length': '20' }),
        body: '{"Status":"SUCCESS"}',
      },
    ]);
  });

  it('throws when the answer is refused, naming the status but not the signature', async () => {
    // Prepare
    responseUrl.answerWith(403);

    // Act
    const act = answerCloudFormation(`${base}/response?X-Amz-Signature=secret`, '{}');

    // Assess
    await expect(act).rejects.toThrow(CloudFormationAnswerError);
    await expect(act).rejects.toThrow(
      `the answer was refused at ${base}/response: HTTP 403 <Error><Code>SignatureDoesNotMatch</Code></Error>`,
    );
  });

  it('throws, with the cause, when nothing answers at the URL', async () => {
    // Prepare
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/response?X-Amz-Signature=secret`;
    closed.close();
    await once(closed, 'close');

    // Act
    const act = answerCloudFormation(url, '{}');

    // Assess
    await expect(act).rejects.toThrow(`the answer could not be sent to ${url.split('?')[0]}`);
    await expect(act).rejects.toHaveProperty('cause', expect.any(Error));
  });
});
