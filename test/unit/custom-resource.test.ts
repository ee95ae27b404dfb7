/** Which custom-resource requests are the stack's own: its StackId, its resource, an answer to CloudFormation's bucket. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CustomResourceRequest, foreignRequestReason } from '../../lib/custom-resource.js';
import { CAPTURE_RESOURCE_ID } from '../../lib/deploy-capture.js';
import { trailGuardDeployment } from '../../lib/guards/trail-guard.js';
import { GUARDS } from '../../lib/registry.js';
import type { CustomResourceSettings } from '../../lib/settings.js';
import { settingsOf } from './fixtures.js';

const STACK_ID =
  'arn:aws:cloudformation:eu-west-1:123456789012:stack/driftguard-prod/5b8e7a40-b0c4-11ef-9f5c-0a1b2c3d4e5f';
const OURS: CustomResourceSettings = { stackId: STACK_ID, loopbackResponseUrl: false };
const KEY =
  'arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack/driftguard-prod/x%7CTrailBaselineCapture%7Cr';

function request(overrides: Partial<CustomResourceRequest> = {}): CustomResourceRequest {
  return {
    RequestType: 'Create',
    ResponseURL: `https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/${KEY}?X-Amz-Signature=s`,
    StackId: STACK_ID,
    RequestId: 'req-1',
    LogicalResourceId: CAPTURE_RESOURCE_ID,
    ...overrides,
  };
}

describe('foreignRequestReason', () => {
  it.each([
    ['the global virtual-hosted form', 'cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/'],
    ['the regional dash form', 'cloudformation-custom-resource-response-euwest1.s3-eu-west-1.amazonaws.com/'],
    ['the regional dot form', 'cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/'],
    ['the path-style regional form', 's3.eu-west-1.amazonaws.com/cloudformation-custom-resource-response-euwest1/'],
    ['the path-style global form', 's3.amazonaws.com/cloudformation-custom-resource-response-euwest1/'],
  ])('accepts the stack’s request answered at %s', (_label, prefix) => {
    // Act
    const reason = foreignRequestReason(request({ ResponseURL: `https://${prefix}${KEY}` }), CAPTURE_RESOURCE_ID, OURS);

    // Assess
    expect(reason).toBeUndefined();
  });

  it.each([
    [
      'another stack',
      { StackId: STACK_ID.replace('driftguard-prod', 'attacker') },
      `StackId ${STACK_ID.replace('driftguard-prod', 'attacker')} is not this stack's`,
    ],
    ['another resource', { LogicalResourceId: 'Other' }, `LogicalResourceId Other is not ${CAPTURE_RESOURCE_ID}`],
    [
      'an attacker’s host',
      { ResponseURL: 'https://collector.example.com/cloudformation-custom-resource-response-euwest1/x' },
      "ResponseURL host collector.example.com is not CloudFormation's response bucket in eu-west-1",
    ],
    [
      'a look-alike host ending in amazonaws.com',
      { ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com.example.net/x' },
      "ResponseURL host cloudformation-custom-resource-response-euwest1.s3.amazonaws.com.example.net is not CloudFormation's response bucket in eu-west-1",
    ],
    [
      'an attacker’s bucket on S3',
      { ResponseURL: 'https://exfil-bucket.s3.amazonaws.com/x' },
      "ResponseURL host exfil-bucket.s3.amazonaws.com is not CloudFormation's response bucket in eu-west-1",
    ],
    [
      'CloudFormation’s bucket of another region',
      { ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x' },
      "ResponseURL host cloudformation-custom-resource-response-useast1.s3.amazonaws.com is not CloudFormation's response bucket in eu-west-1",
    ],
    [
      'plain http to the right host',
      { ResponseURL: 'http://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x' },
      "ResponseURL host cloudformation-custom-resource-response-euwest1.s3.amazonaws.com is not CloudFormation's response bucket in eu-west-1",
    ],
    [
      'loopback without the test setting',
      { ResponseURL: 'http://127.0.0.1:8080/cloudformation-response/x' },
      "ResponseURL host 127.0.0.1:8080 is not CloudFormation's response bucket in eu-west-1",
    ],
    ['no URL at all', { ResponseURL: 'not a url' }, 'ResponseURL is not a URL'],
  ])('refuses a request of %s', (_label, overrides, reason) => {
    // Act
    const refused = foreignRequestReason(request(overrides), CAPTURE_RESOURCE_ID, OURS);

    // Assess
    expect(refused).toBe(reason);
  });

  it('refuses every request when the function does not know its stack', () => {
    // Act
    const refused = foreignRequestReason(request(), CAPTURE_RESOURCE_ID, { ...OURS, stackId: undefined });

    // Assess
    expect(refused).toBe('DRIFTGUARD_STACK_ID is not set: no request can be told to be the stack’s');
  });

  it('lets a loopback ResponseURL stand in for CloudFormation only with the test setting, and only loopback', () => {
    // Prepare
    const testing = { ...OURS, loopbackResponseUrl: true };

    // Act
    const loopback = foreignRequestReason(
      request({ ResponseURL: 'http://127.0.0.1:8080/cloudformation-response/x' }),
      CAPTURE_RESOURCE_ID,
      testing,
    );
    const elsewhere = foreignRequestReason(
      request({ ResponseURL: 'http://10.0.0.8:8080/cloudformation-response/x' }),
      CAPTURE_RESOURCE_ID,
      testing,
    );

    // Assess
    expect(loopback).toBeUndefined();
    expect(elsewhere).toBe("ResponseURL host 10.0.0.8:8080 is not CloudFormation's response bucket in eu-west-1");
  });
});

describe('the custom-resource settings', () => {
  it('reads the stack’s ARN and the test-only loopback allowance', () => {
    // Act
    const settings = settingsOf({ DRIFTGUARD_STACK_ID: STACK_ID, DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL: 'allow' });

    // Assess
    expect(settings.customResource).toEqual({ stackId: STACK_ID, loopbackResponseUrl: true });
  });

  it.each([
    ['DRIFTGUARD_STACK_ID', 'driftguard-prod'],
    ['DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL', 'yes'],
  ])('rejects %s=%j', (name, value) => {
    // Act
    const load = () => settingsOf({ [name]: value });

    // Assess
    expect(load).toThrow(`${name}=${JSON.stringify(value)} is invalid`);
  });
});

describe('the deployed stack', () => {
  it('tells the trail guard its own ARN, and never allows a loopback ResponseURL', () => {
    // Prepare
    const template = readFileSync('serverless.yml', 'utf8');
    const environments = JSON.stringify(GUARDS.map((guard) => guard.environment ?? {}));

    // Assess
    expect(trailGuardDeployment.environment).toMatchObject({ DRIFTGUARD_STACK_ID: { Ref: 'AWS::StackId' } });
    expect(template).toContain(`${CAPTURE_RESOURCE_ID}:\n        Type: Custom::TrailBaselineCapture`);
    expect(template).not.toContain('DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL');
    expect(environments).not.toContain('DRIFTGUARD_TEST_LOOPBACK_RESPONSE_URL');
  });
});
