/**
 * The emulator's speed patches (scripts/emulator/speed_patches.py) keep moto's answers: each answer below was recorded
 * from the unpatched server (moto 5.2.1) through the same SDK calls, and is read back here from the patched one.
 */
import { Agent, type AgentOptions, request } from 'node:http';
import {
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { testEndpoint } from '../support/emulator.js';

const region = 'us-east-1';
const run = Date.now().toString(36);
let endpoint = '';

beforeAll(() => {
  endpoint = testEndpoint();
});

/** A keep-alive agent (as the SDK's own) that counts the connections it opens. */
class CountingAgent extends Agent {
  opened = 0;
  constructor(options: AgentOptions = {}) {
    super({ keepAlive: true, maxSockets: 50, ...options });
  }
  override createConnection(...args: Parameters<Agent['createConnection']>): ReturnType<Agent['createConnection']> {
    this.opened += 1;
    return super.createConnection(...args);
  }
}

async function queueCounts(sqs: SQSClient, QueueUrl: string) {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
  return {
    visible: Attributes?.ApproximateNumberOfMessages,
    delayed: Attributes?.ApproximateNumberOfMessagesDelayed,
    notVisible: Attributes?.ApproximateNumberOfMessagesNotVisible,
  };
}

describe('SQS queue attributes', () => {
  it('counts visible, delayed and in-flight messages right after the sends, SNS deliveries included', async () => {
    const sqs = new SQSClient(emulatorClientConfig(endpoint, region));
    const sns = new SNSClient(emulatorClientConfig(endpoint, region));
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: `speed-${run}` }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `speed-${run}` }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));

    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'one' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later', DelaySeconds: 60 }));
    await sns.send(new PublishCommand({ TopicArn, Message: 'two' }));
    await sns.send(new PublishCommand({ TopicArn, Message: 'three' }));
    expect(await queueCounts(sqs, QueueUrl)).toEqual({ visible: '3', delayed: '1', notVisible: '0' });

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 60 }),
    );
    expect(Messages).toHaveLength(1);
    // The received message is in flight; the delayed one counts as delayed only (moto's answer, before the patch too).
    expect(await queueCounts(sqs, QueueUrl)).toEqual({ visible: '2', delayed: '1', notVisible: '1' });
    // Named attributes: those asked, and only those.
    const named = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'DelaySeconds'] }),
    );
    expect(named.Attributes).toEqual({ ApproximateNumberOfMessages: '2', DelaySeconds: '0' });
  });

  it('a FIFO queue with content-based deduplication still drops a repeated body; without it, asks for an id', async () => {
    const sqs = new SQSClient(emulatorClientConfig(endpoint, region));
    const { QueueUrl: deduped = '' } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `speed-dedup-${run}.fifo`,
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
      }),
    );
    for (const MessageBody of ['same', 'same', 'other']) {
      await sqs.send(new SendMessageCommand({ QueueUrl: deduped, MessageBody, MessageGroupId: 'g' }));
    }
    expect(await queueCounts(sqs, deduped)).toEqual({ visible: '2', delayed: '0', notVisible: '0' });
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: deduped, AttributeNames: ['ContentBasedDeduplication', 'FifoQueue'] }),
    );
    expect(Attributes).toEqual({ ContentBasedDeduplication: 'true', FifoQueue: 'true' });

    const { QueueUrl: plain = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: `speed-plain-${run}.fifo`, Attributes: { FifoQueue: 'true' } }),
    );
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: plain, MessageBody: 'x', MessageGroupId: 'g' })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message:
        'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    });
  });
});

describe('DynamoDB update expressions', () => {
  const TableName = `speed-${run}`;
  const Key = { pk: { S: 'a' } };
  let ddb: DynamoDBClient;

  beforeAll(async () => {
    ddb = new DynamoDBClient(emulatorClientConfig(endpoint, region));
    await ddb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await ddb.send(
      new PutItemCommand({ TableName, Item: { pk: { S: 'a' }, n: { N: '1' }, s: { S: 'x' }, tags: { SS: ['t'] } } }),
    );
  });

  const one = { ':one': { N: '1' } };
  const invalid = 'Invalid UpdateExpression: ';
  it.each<[string, Omit<UpdateItemCommandInput, 'TableName' | 'Key'>, string, string]>([
    [
      'a SET and a REMOVE of the same path',
      { UpdateExpression: 'SET n = :one REMOVE n', ExpressionAttributeValues: one },
      'ValidationException',
      `${invalid}Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [n], path two: [n]`,
    ],
    [
      'a missing ExpressionAttributeValue',
      { UpdateExpression: 'SET n = :missing' },
      'ValidationException',
      `${invalid}An expression attribute value used in expression is not defined; attribute value: :missing`,
    ],
    [
      'ADD of a string to a number',
      { UpdateExpression: 'ADD n :str', ExpressionAttributeValues: { ':str': { S: 'x' } } },
      'ValidationException',
      'An operand in the update expression has an incorrect data type',
    ],
    [
      'a key attribute updated',
      {
        UpdateExpression: 'SET #k = :v',
        ExpressionAttributeNames: { '#k': 'pk' },
        ExpressionAttributeValues: { ':v': { S: 'b' } },
      },
      'ValidationException',
      'One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key',
    ],
    [
      'two SET clauses',
      { UpdateExpression: 'SET n = :one SET s = :one', ExpressionAttributeValues: one },
      'ValidationException',
      `${invalid}The "SET" section can only be used once in an update expression;`,
    ],
    [
      'a syntax error',
      { UpdateExpression: 'SET n = = :one', ExpressionAttributeValues: one },
      'ValidationException',
      `${invalid}Syntax error; token: "=", near: "= = :one"`,
    ],
    [
      'a path the item does not have',
      { UpdateExpression: 'SET n = nope + :one', ExpressionAttributeValues: one },
      'ValidationException',
      'The provided expression refers to an attribute that does not exist in the item',
    ],
    [
      '+ on a string',
      { UpdateExpression: 'SET n = s + :one', ExpressionAttributeValues: one },
      'ValidationException',
      `${invalid}Incorrect operand type for operator or function; operator or function: +, operand type: S`,
    ],
    [
      'a reserved word',
      { UpdateExpression: 'SET size = :one', ExpressionAttributeValues: one },
      'ValidationException',
      `${invalid}Attribute name is a reserved keyword; reserved keyword: size`,
    ],
    [
      'a failed condition',
      {
        UpdateExpression: 'SET n = :one',
        ConditionExpression: 'attribute_not_exists(pk)',
        ExpressionAttributeValues: one,
      },
      'ConditionalCheckFailedException',
      'The conditional request failed',
    ],
  ])('%s: the same error as before', async (_case, input, name, message) => {
    // Twice: the second time the expression's parsed tree is the one kept from the first.
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(ddb.send(new UpdateItemCommand({ TableName, Key, ...input }))).rejects.toMatchObject({
        name,
        message,
      });
    }
  });

  it('a transaction with overlapping paths is refused; a valid update gives the same item as before', async () => {
    await expect(
      ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Update: { TableName, Key, UpdateExpression: 'SET n = :one REMOVE n', ExpressionAttributeValues: one } },
          ],
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: `${invalid}Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [n], path two: [n]`,
    });
    const update = {
      TableName,
      Key,
      UpdateExpression: 'SET n = n + :one, l = list_append(if_not_exists(l, :empty), :l) REMOVE s ADD tags :t',
      ExpressionAttributeValues: { ...one, ':empty': { L: [] }, ':l': { L: [{ S: 'z' }] }, ':t': { SS: ['u'] } },
      ReturnValues: 'ALL_NEW' as const,
    };
    const first = await ddb.send(new UpdateItemCommand(update));
    expect(first.Attributes).toEqual({
      pk: { S: 'a' },
      n: { N: '2' },
      tags: { SS: ['t', 'u'] },
      l: { L: [{ S: 'z' }] },
    });
    // The same expression again, from its kept tree: applied to the item as it is now.
    const second = await ddb.send(new UpdateItemCommand(update));
    expect(second.Attributes?.n).toEqual({ N: '3' });
    expect(second.Attributes?.l).toEqual({ L: [{ S: 'z' }, { S: 'z' }] });
  });
});

describe('HTTP/1.1 keep-alive', () => {
  it('two calls share one connection; after an idle pause the connection is still answered', async () => {
    const agent = new CountingAgent();
    const ddb = new DynamoDBClient({ ...emulatorClientConfig(endpoint, region), requestHandler: { httpAgent: agent } });
    const key = { TableName: `speed-${run}`, Key: { pk: { S: 'keep' } } };
    await ddb.send(
      new UpdateItemCommand({
        ...key,
        UpdateExpression: 'ADD c :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
    await ddb.send(
      new UpdateItemCommand({
        ...key,
        UpdateExpression: 'ADD c :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
    expect(agent.opened).toBe(1);
    // Idle for a while (the server must not close a kept-alive connection under a client about to reuse it).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const { Attributes } = await ddb.send(
      new UpdateItemCommand({
        ...key,
        UpdateExpression: 'ADD c :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(Attributes?.c).toEqual({ N: '3' });
    expect(agent.opened).toBe(1);
    ddb.destroy();
    agent.destroy();
  });

  it('a body the server did not read is drained: the next request on the connection is answered as its own', async () => {
    const agent = new CountingAgent({ maxSockets: 1 });
    const call = (method: string, path: string, body?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(new URL(path, endpoint), { method, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const unread = await call('POST', '/moto-api/no-such-path', 'x'.repeat(5_000));
    expect(unread.status).toBe(404);
    const counts = await call('GET', '/driftguard-api/requests');
    expect(counts.status).toBe(200);
    expect(JSON.parse(counts.body)).toHaveProperty('calls');
    expect(agent.opened).toBe(1);
    agent.destroy();
  });
});
