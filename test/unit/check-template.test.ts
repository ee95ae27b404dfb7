import { describe, expect, it } from 'vitest';
import { danglingReferences, subReferences } from '../../scripts/check-template.js';

/** A small stack whose every reference resolves: the cases below each break one. */
const sound = () => ({
  Parameters: { Email: { Type: 'String', Default: '' } },
  Mappings: { Retention: { 'us-east-1': { Days: 365 } } },
  Conditions: {
    HasEmail: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Email' }, ''] }] },
    AlsoEmail: { 'Fn::And': [{ Condition: 'HasEmail' }, { Condition: 'HasEmail' }] },
  },
  Resources: {
    Key: { Type: 'AWS::KMS::Key', Properties: {} },
    Topic: {
      Type: 'AWS::SNS::Topic',
      DependsOn: ['Key'],
      Properties: {
        KmsMasterKeyId: { Ref: 'Key' },
        TopicName: { 'Fn::Sub': '${AWS::StackName}-${Email}-${Key.Arn}-${!Literal}-${Local}' },
        Retention: { 'Fn::FindInMap': ['Retention', { Ref: 'AWS::Region' }, 'Days'] },
      },
    },
    Subscription: {
      Type: 'AWS::SNS::Subscription',
      Condition: 'HasEmail',
      Properties: { TopicArn: { 'Fn::GetAtt': ['Topic', 'TopicArn'] }, Endpoint: { Ref: 'Email' } },
    },
  },
  Outputs: {
    SubscriptionArn: { Condition: 'HasEmail', Value: { Ref: 'Subscription' } },
    MaybeSubscription: {
      Value: { 'Fn::If': ['HasEmail', { Ref: 'Subscription' }, { Ref: 'AWS::NoValue' }] },
    },
  },
});

// The local variable ${Local} is declared by the Sub's own map.
function withLocalSub(template: ReturnType<typeof sound>) {
  const topic = template.Resources.Topic.Properties as Record<string, unknown>;
  topic.TopicName = { 'Fn::Sub': [(topic.TopicName as { 'Fn::Sub': string })['Fn::Sub'], { Local: 'x' }] };
  return template;
}

describe('danglingReferences', () => {
  it('finds nothing in a template whose every reference resolves', () => {
    // Act
    const found = danglingReferences(withLocalSub(sound()));

    // Assess
    expect(found).toEqual([]);
  });

  it.each<[string, (template: ReturnType<typeof sound>) => void, { path: string; kind: string; name: string }]>([
    [
      'a Ref to a resource that is not there',
      (t) => {
        t.Resources.Topic.Properties.KmsMasterKeyId = { Ref: 'MissingKey' };
      },
      { path: 'Resources.Topic.Properties.KmsMasterKeyId', kind: 'Ref', name: 'MissingKey' },
    ],
    [
      'a GetAtt of a parameter (GetAtt names resources only)',
      (t) => {
        t.Resources.Subscription.Properties.TopicArn = { 'Fn::GetAtt': ['Email', 'Arn'] };
      },
      { path: 'Resources.Subscription.Properties.TopicArn', kind: 'Fn::GetAtt', name: 'Email' },
    ],
    [
      'a GetAtt in its dotted string form',
      (t) => {
        t.Resources.Subscription.Properties.TopicArn = { 'Fn::GetAtt': 'Gone.TopicArn' } as never;
      },
      { path: 'Resources.Subscription.Properties.TopicArn', kind: 'Fn::GetAtt', name: 'Gone' },
    ],
    [
      'a ${...} of Fn::Sub naming nothing (the MFA policy of a stack without it)',
      (t) => {
        t.Resources.Topic.Properties.TopicName = { 'Fn::Sub': 'arn:${AWS::Partition}:x/${MfaQuarantinePolicy}' };
      },
      { path: 'Resources.Topic.Properties.TopicName', kind: 'Fn::Sub', name: 'MfaQuarantinePolicy' },
    ],
    [
      'a mapping that is not there',
      (t) => {
        t.Resources.Topic.Properties.Retention = { 'Fn::FindInMap': ['Nope', 'a', 'b'] };
      },
      { path: 'Resources.Topic.Properties.Retention', kind: 'Fn::FindInMap', name: 'Nope' },
    ],
    [
      'a resource condition that is not there',
      (t) => {
        Object.assign(t.Resources, {
          Alarm: { Type: 'AWS::CloudWatch::Alarm', Condition: 'HasPhone', Properties: {} },
        });
      },
      { path: 'Resources.Alarm.Condition', kind: 'Condition', name: 'HasPhone' },
    ],
    [
      'an Fn::If condition that is not there',
      (t) => {
        t.Outputs.MaybeSubscription.Value['Fn::If'] = ['HasPhone', { Ref: 'Email' }, { Ref: 'AWS::NoValue' }];
      },
      { path: 'Outputs.MaybeSubscription.Value.Fn::If[0]', kind: 'Condition', name: 'HasPhone' },
    ],
    [
      'a condition naming another that is not there',
      (t) => {
        t.Conditions.AlsoEmail = { 'Fn::And': [{ Condition: 'HasEmail' }, { Condition: 'HasPhone' }] } as never;
      },
      { path: 'Conditions.AlsoEmail.Fn::And[1]', kind: 'Condition', name: 'HasPhone' },
    ],
    [
      'a DependsOn on a resource that is not there',
      (t) => {
        t.Resources.Topic.DependsOn = ['Key', 'Queue'];
      },
      { path: 'Resources.Topic.DependsOn', kind: 'Ref', name: 'Queue' },
    ],
    [
      'a conditional resource referenced where its condition may not hold',
      (t) => {
        t.Resources.Topic.Properties.KmsMasterKeyId = { Ref: 'Subscription' };
      },
      { path: 'Resources.Topic.Properties.KmsMasterKeyId', kind: 'Ref', name: 'Subscription' },
    ],
    [
      'a conditional resource in the false branch of its own condition',
      (t) => {
        t.Outputs.MaybeSubscription.Value['Fn::If'] = ['HasEmail', { Ref: 'AWS::NoValue' }, { Ref: 'Subscription' }];
      },
      { path: 'Outputs.MaybeSubscription.Value.Fn::If[2]', kind: 'Ref', name: 'Subscription' },
    ],
  ])('reports %s', (_label, breakIt, expected) => {
    // Prepare
    const template = withLocalSub(sound());
    breakIt(template);

    // Act
    const found = danglingReferences(template);

    // Assess
    expect(found).toEqual([expect.objectContaining(expected)]);
  });

  it('reports a Sub local variable only where it is not declared', () => {
    // Act: the sound template without the Sub's variable map
    const found = danglingReferences(sound());

    // Assess
    expect(found).toEqual([
      { path: 'Resources.Topic.Properties.TopicName', kind: 'Fn::Sub', name: 'Local', problem: expect.any(String) },
    ]);
  });
});

describe('subReferences', () => {
  it.each([
    ['arn:${AWS::Partition}:iam::${AWS::AccountId}:role/x', ['AWS::Partition', 'AWS::AccountId']],
    ['${Key.Arn} and ${Topic}', ['Key', 'Topic']],
    ['${!aws:username} is IAM’s, not a reference', []],
    ['no reference at all', []],
  ])('reads %j', (text, names) => {
    // Act
    const found = subReferences(text);

    // Assess
    expect(found).toEqual(names);
  });
});
