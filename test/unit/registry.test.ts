/** A conformance walk over the registry: every rule declares what the deployment, replay and docs derive from it. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCloudTrailEvent } from '../../lib/envelope.js';
import { eventPatterns, rulePermissions } from '../../lib/manifest.js';
import { GUARDS, RULES } from '../../lib/registry.js';
import { REENACTMENTS } from '../../scripts/reenact/index.js';
import { cloudTrailEventFiles } from './fixtures.js';

const samples = cloudTrailEventFiles('events').map((file) =>
  parseCloudTrailEvent(JSON.parse(readFileSync(file, 'utf8'))),
);
const readme = readFileSync('README.md', 'utf8');

/** IAM actions with no resource type (Service Authorization Reference): their only resource is "*". */
// GuardDuty's CreateDetector and ListDetectors name no resource type (Service Authorization Reference).
const WITHOUT_RESOURCE_TYPE = [
  'kms:ListKeys',
  's3:ListAllMyBuckets',
  // Called with no recorder named (they answer the account's customer-managed one): a grant on
  // configuration-recorder/* may not match such a request; within the account "*" grants nothing more.
  'config:DescribeConfigurationRecorders',
  'config:DescribeConfigurationRecorderStatus',
  'config:DescribeDeliveryChannels',
  'config:DescribeDeliveryChannelStatus',
  'config:PutDeliveryChannel',
  'guardduty:CreateDetector',
  'guardduty:ListDetectors',
];
describe.each(RULES)('rule $id', (rule) => {
  it('declares id, title, severity, controls and a trigger', () => {
    expect(rule.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(rule.title.length).toBeGreaterThan(10);
    expect(['low', 'medium', 'high', 'critical']).toContain(rule.severity);
    expect(rule.controls.length).toBeGreaterThan(0);
    for (const control of rule.controls) expect(control).toMatch(/^[A-Za-z0-9]+\.\d+$/);
    expect(rule.trigger.source).toMatch(/^aws\.[a-z0-9-]+$/);
    expect(rule.trigger.detailTypes.length).toBeGreaterThan(0);
    expect(rule.trigger.eventNames.length).toBeGreaterThan(0);
  });

  it('declares narrow IAM permissions: service:Action names, no wildcard action, no "*" resource', () => {
    expect(Object.keys(rule.commands).length + rule.reads.length).toBeGreaterThan(0);
    for (const { actions, resource } of rulePermissions(rule)) {
      for (const action of actions) expect(action).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/);
      // Actions IAM defines no resource type for take "*" only, alone in their statement.
      if (actions.every((action) => WITHOUT_RESOURCE_TYPE.includes(action))) expect(resource).toBe('*');
      else for (const arn of [resource].flat()) expect(arn).toMatch(/^arn:\$\{AWS::Partition\}:[a-z0-9-]+:/);
    }
  });

  it.each(rule.trigger.eventNames)('has a sample event and a reenactment for %s', (eventName) => {
    expect(samples.some((event) => event.source === rule.trigger.source && event.detail.eventName === eventName)).toBe(
      true,
    );
    expect(REENACTMENTS[`${rule.trigger.source}:${eventName}`]).toBeTypeOf('function');
  });

  it('is listed in the README rules table with its severity and controls', () => {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${rule.id}\``));
    expect(row).toBeDefined();
    expect(row).toContain(rule.severity);
    for (const control of rule.controls) expect(row).toContain(control);
    for (const eventName of rule.trigger.eventNames) expect(row).toContain(eventName);
  });
});

describe('the registry', () => {
  it('has unique rule ids and unique function keys', () => {
    expect(new Set(RULES.map((rule) => rule.id)).size).toBe(RULES.length);
    expect(new Set(GUARDS.map((guard) => guard.functionKey)).size).toBe(GUARDS.length);
  });

  it('gives no event to two rules', () => {
    const keys = RULES.flatMap((rule) => rule.trigger.eventNames.map((name) => `${rule.trigger.source}:${name}`));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(GUARDS)(
    'derives one pattern per source for $file, excluding failed calls and the engine’s roles',
    (guard) => {
      const engineRoles = ['arn:aws:iam::123456789012:role/driftguard-prod-sweep'];
      const patterns = eventPatterns(guard, engineRoles);
      const sources = new Set(guard.rules.map((rule) => rule.trigger.source));
      expect(patterns).toHaveLength(sources.size);
      for (const pattern of patterns) {
        expect(pattern).toMatchObject({
          detail: {
            errorCode: [{ exists: false }],
            $or: [
              { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ exists: false }] } } } },
              { userIdentity: { sessionContext: { sessionIssuer: { arn: [{ 'anything-but': engineRoles }] } } } },
            ],
          },
        });
      }
    },
  );
});
