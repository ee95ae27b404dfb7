/**
 * The deploy-time baseline capture as CloudFormation drives it: a custom-resource request (Create, Update, Delete)
 * sent to the trail guard's Lambda handler is answered with a PUT at its ResponseURL (here a local server), and a
 * request whose handling fails is answered FAILED: a deploy must never wait for an answer that does not come.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../lib/aws.js';
import type { CustomResourceRequest } from '../../lib/custom-resource.js';
import { trailGuard } from '../../lib/guards/trail-guard.js';
import { createGuardHandler } from '../../lib/handler.js';
import { loadSettings } from '../../lib/settings.js';
import { TrailBaselineStore } from '../../lib/trail-baselines.js';
import { invocationContext } from '../../scripts/replay.js';
import { freshEngine } from '../support/emulator.js';
import { accessDenied, interceptedClients } from '../support/intercept.js';
import { type ResponseUrl, startResponseUrl } from '../support/response-url.js';
import { trailWithoutBaseline } from '../support/trails.js';

const ACCOUNT = '123456789012';
const HOME = 'us-east-1';
const STACK_ID = `arn:aws:cloudformation:${HOME}:${ACCOUNT}:stack/driftguard-dev/7f1c2a30-b0c4-11ef-9f5c-0a1b2c3d4e5f`;
const arnOf = (region: string, name: string) => `arn:aws:cloudtrail:${region}:${ACCOUNT}:trail/${name}`;

/** CloudFormation's answers, their JSON bodies parsed. */
let responseUrl: ResponseUrl;
let responseBase = '';
const answers = () =>
  responseUrl.received.map(({ method, path, body }) => ({
    method,
    path,
    body: JSON.parse(body) as Record<string, unknown>,
  }));

beforeAll(async () => {
  responseUrl = await startResponseUrl();
  responseBase = responseUrl.base;
});

afterAll(() => responseUrl.close());

function request(
  type: CustomResourceRequest['RequestType'],
  requestId: string,
  physicalId?: string,
): CustomResourceRequest & Record<string, unknown> {
  return {
    RequestType: type,
    ServiceToken: `arn:aws:lambda:${HOME}:${ACCOUNT}:function:driftguard-dev-trailGuard`,
    ResponseURL: `${responseBase}/cloudformation-response/${requestId}?X-Amz-Signature=example`,
    StackId: STACK_ID,
    RequestId: requestId,
    LogicalResourceId: 'TrailBaselineCapture',
    ResourceType: 'Custom::TrailBaselineCapture',
    ResourceProperties: { ServiceToken: `arn:aws:lambda:${HOME}:${ACCOUNT}:function:driftguard-dev-trailGuard` },
    ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
  };
}

const lambdaContext = (requestId: string) =>
  invocationContext('driftguard-dev-trailGuard', { region: HOME, account: ACCOUNT, requestId });

/** The trail guard's Lambda handler, as functions/trail-guard.ts builds it (with the test's clients). */
function trailGuardHandler(aws: AwsClients = createAwsClients()) {
  return createGuardHandler(trailGuard, { settings: loadSettings(), aws, logger: new Logger({ logLevel: 'SILENT' }) });
}

const baselineOf = (arn: string) => new TrailBaselineStore(createAwsClients(), loadSettings().stateTable).get(arn);

describe('the trail guard’s handler as a CloudFormation custom resource', () => {
  beforeEach(async () => {
    responseUrl.reset();
    // The stack's ARN as the template sets it; loopback stands in for CloudFormation's S3 host (tests only).
    await freshEngine({
      AWS_REGION: HOME,
      DRIFTGUARD_STACK_ID: STACK_ID,
      DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL: 'allow',
    });
    await trailWithoutBaseline(HOME, 'home-trail');
    await trailWithoutBaseline('eu-west-1', 'other-region-trail');
  });

  it('answers a Create at its ResponseURL after capturing the baselines of the home region’s trails', async () => {
    const result = await trailGuardHandler()(request('Create', 'create-1'), lambdaContext('create-1'));

    expect(answers()).toEqual([
      {
        method: 'PUT',
        path: '/cloudformation-response/create-1?X-Amz-Signature=example',
        body: {
          Status: 'SUCCESS',
          Reason: 'captured 1 trail baselines',
          PhysicalResourceId: `driftguard-trail-baselines-${HOME}`,
          StackId: STACK_ID,
          RequestId: 'create-1',
          LogicalResourceId: 'TrailBaselineCapture',
          Data: { Captured: 1 },
        },
      },
    ]);
    expect(result).toMatchObject({ outcome: 'compliant', reason: 'captured 1 trail baselines' });
    const baseline = await baselineOf(arnOf(HOME, 'home-trail'));
    expect(baseline).toMatchObject({ capturedFrom: 'deploy', config: { name: 'home-trail', homeRegion: HOME } });
    // The stack's region only: another region's trails are captured by the sweep.
    expect(await baselineOf(arnOf('eu-west-1', 'other-region-trail'))).toBeUndefined();
  });

  it.each(['Update', 'Delete'] as const)('answers %s with the same physical id, capturing nothing', async (type) => {
    const physicalId = `driftguard-trail-baselines-${HOME}`;
    const result = await trailGuardHandler()(request(type, `${type}-1`, physicalId), lambdaContext(`${type}-1`));

    expect(answers()).toHaveLength(1);
    expect(answers()[0]?.method).toBe('PUT');
    expect(answers()[0]?.body).toEqual({
      Status: 'SUCCESS',
      Reason: 'nothing to do',
      PhysicalResourceId: physicalId,
      StackId: STACK_ID,
      RequestId: `${type}-1`,
      LogicalResourceId: 'TrailBaselineCapture',
      Data: { Captured: 0 },
    });
    expect(result).toMatchObject({ outcome: 'compliant', reason: 'nothing to do' });
    expect(await baselineOf(arnOf(HOME, 'home-trail'))).toBeUndefined();
  });

  it('answers FAILED, naming the error, when the capture fails', async () => {
    const refusing = interceptedClients(async (call, send) => {
      if (call.command === 'DescribeTrails') throw accessDenied('cloudtrail:DescribeTrails');
      return send();
    });
    const result = await trailGuardHandler(refusing)(request('Create', 'create-2'), lambdaContext('create-2'));

    expect(answers()).toHaveLength(1);
    expect(answers()[0]?.body).toMatchObject({
      Status: 'FAILED',
      Reason: expect.stringMatching(/^baseline capture failed: .*cloudtrail:DescribeTrails/),
      PhysicalResourceId: `driftguard-trail-baselines-${HOME}`,
      StackId: STACK_ID,
      RequestId: 'create-2',
      LogicalResourceId: 'TrailBaselineCapture',
    });
    expect(result.reason).toMatch(/^baseline capture failed/);
    expect(await baselineOf(arnOf(HOME, 'home-trail'))).toBeUndefined();
  });

  it('answers a Delete SUCCESS even when every AWS call would be refused: removing the stack is never blocked', async () => {
    const refusingAll = interceptedClients(async (call) => {
      throw accessDenied(call.command);
    });
    const physicalId = `driftguard-trail-baselines-${HOME}`;
    await trailGuardHandler(refusingAll)(request('Delete', 'delete-2', physicalId), lambdaContext('delete-2'));

    expect(answers().map((answer) => [answer.body.Status, answer.body.RequestId])).toEqual([['SUCCESS', 'delete-2']]);
  });
});
