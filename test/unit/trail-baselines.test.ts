/**
 * The trail baselines the sweep lists by region (trailBaselinesInRegion): the table scanned page by page, each
 * baseline under its trail's home region in any partition, and once per sweep for all its regions.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../lib/aws.js';
import { trailBaselinesInRegion } from '../../lib/trail-baselines.js';

const TABLE = 'driftguard-test-state';
const dynamoMock = mockClient(DynamoDBClient);
const aws = () => createAwsClients({ maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

const baselineItem = (trailArn: string) => ({
  pk: { S: `trail#${trailArn}` },
  sk: { S: 'baseline' },
  baseline: {
    S: JSON.stringify({ config: { trailArn, name: trailArn.split('/')[1] }, capturedAt: 'x', capturedFrom: 'y' }),
  },
});

const names = (baselines: { config: { name: string } }[]) => baselines.map((b) => b.config.name);

describe('trailBaselinesInRegion', () => {
  beforeEach(() => {
    dynamoMock.reset();
  });

  it('lists each baseline under its trail’s region, in every partition, over every page', async () => {
    // Prepare
    const lastKey = { pk: { S: 'trail#arn:aws:cloudtrail:eu-west-1:123456789012:trail/a' }, sk: { S: 'baseline' } };
    dynamoMock.on(ScanCommand).callsFake((input: { ExclusiveStartKey?: unknown }) =>
      input.ExclusiveStartKey
        ? { Items: [baselineItem('arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:trail/gov')] }
        : {
            Items: [
              baselineItem('arn:aws:cloudtrail:eu-west-1:123456789012:trail/a'),
              baselineItem('arn:aws-cn:cloudtrail:cn-north-1:123456789012:trail/china'),
            ],
            LastEvaluatedKey: lastKey,
          },
    );
    // Act
    const found = [];
    for (const region of ['eu-west-1', 'cn-north-1', 'us-gov-west-1', 'us-east-1'])
      found.push(names(await trailBaselinesInRegion(aws(), TABLE, region)));

    // Assess: outside a sweep run, each region reads the table again (two pages each)
    expect(found).toEqual([['a'], ['china'], ['gov'], []]);
    expect(dynamoMock.commandCalls(ScanCommand)).toHaveLength(8);
    const scans = dynamoMock.commandCalls(ScanCommand).map((c) => c.args[0].input);
    expect(scans[0]).toEqual({
      TableName: TABLE,
      FilterExpression: 'begins_with(pk, :prefix) AND sk = :sk',
      ExpressionAttributeValues: { ':prefix': { S: 'trail#arn:' }, ':sk': { S: 'baseline' } },
      ExclusiveStartKey: undefined,
    });
    expect(scans[1]?.ExclusiveStartKey).toEqual(lastKey);
  });

  it('scans once for all the regions of a sweep run', async () => {
    // Prepare
    dynamoMock.on(ScanCommand).resolves({
      Items: [
        baselineItem('arn:aws:cloudtrail:eu-west-1:123456789012:trail/a'),
        baselineItem('arn:aws:cloudtrail:us-east-1:123456789012:trail/b'),
      ],
    });
    // Act
    const run = new Map();
    const eu = await trailBaselinesInRegion(aws(), TABLE, 'eu-west-1', run);
    const us = await trailBaselinesInRegion(aws(), TABLE, 'us-east-1', run);

    // Assess
    expect([names(eu), names(us)]).toEqual([['a'], ['b']]);
    expect(dynamoMock.commandCalls(ScanCommand)).toHaveLength(1);
  });
});
