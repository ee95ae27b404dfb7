/**
 * serverless.yml's ${file(./.build/serverless-manifest.cjs):...} resolver: each guard's function, EventBridge rules,
 * role and log-group settings, derived from the registry. Bundled to CommonJS by scripts/build.ts.
 */
import { type Guard, LAMBDA_ATTEMPTS } from '../lib/guard.js';
import { eventPatterns, type PolicyStatement, ruleStatements } from '../lib/manifest.js';
import { GUARDS } from '../lib/registry.js';

interface ResolverContext {
  resolveVariable(address: string): Promise<unknown>;
}

const pascal = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);

function guardFunction(guard: Guard, prefix: string, concurrency: number) {
  const dlq = { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] };
  return {
    handler: 'index.handler',
    description: guard.description,
    role: `${pascal(guard.functionKey)}Role`,
    package: { artifact: `.build/${guard.file}.zip` },
    ...(guard.environment ? { environment: guard.environment } : {}),
    // Bursts (a deployment wave creating hundreds of log groups) queue instead of exceeding AWS's API quotas.
    reservedConcurrency: concurrency,
    maximumRetryAttempts: LAMBDA_ATTEMPTS - 1,
    maximumEventAge: 3600,
    destinations: { onFailure: { type: 'sqs', arn: dlq } },
    events: eventPatterns(guard, prefix).map((pattern) => ({
      eventBridge: {
        pattern,
        retryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 5 },
        deadLetterQueueArn: dlq,
      },
    })),
  };
}

function guardRole(guard: Guard, prefix: string, functionName: string) {
  const own: PolicyStatement[] = [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`,
      },
    },
    { Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'NoticeTopic' } },
    // The notice topic is encrypted with the stack's key.
    { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': ['LogKey', 'Arn'] } },
    { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } },
  ];
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: `${prefix}${guard.file}`,
      Description: `driftguard ${guard.file}: exactly the actions its rules declare`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: guard.file,
          PolicyDocument: { Version: '2012-10-17', Statement: [...ruleStatements(guard), ...own] },
        },
      ],
    },
  };
}

/** A guard whose invocations fail (after the SDK's retries) tells the notice topic. */
function errorsAlarm(id: string) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmDescription: `driftguard: ${id} failed to handle an event (see its log and the dead-letter queue)`,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${id}LambdaFunction` } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'NoticeTopic' }],
    },
  };
}

const leftOut = new Set<string>();

export default async function resolve({ resolveVariable }: ResolverContext) {
  const service = String(await resolveVariable('self:service'));
  const stage = String(await resolveVariable('sls:stage'));
  const prefix = String(await resolveVariable('self:custom.engineRolePrefix'));
  const region = String(await resolveVariable('self:provider.region'));
  const concurrency = Number(await resolveVariable('param:guardConcurrency'));
  const functions: Record<string, unknown> = {};
  const resources: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = {};
  for (const guard of GUARDS) {
    if (guard.onlyRegion && guard.onlyRegion !== region) {
      // serverless resolves the file once per reference: say it once.
      if (!leftOut.has(guard.file))
        process.stderr.write(
          `driftguard: ${guard.file} left out of ${region}: its events reach EventBridge in ${guard.onlyRegion} only; deploy a stack there for it\n`,
        );
      leftOut.add(guard.file);
      continue;
    }
    const id = pascal(guard.functionKey);
    functions[guard.functionKey] = guardFunction(guard, prefix, concurrency);
    resources[`${id}ErrorsAlarm`] = errorsAlarm(id);
    resources[`${id}Role`] = guardRole(guard, prefix, `${service}-${stage}-${guard.functionKey}`);
    Object.assign(resources, guard.resources?.({ stage }) ?? {});
    // The engine obeys its own policy: its log groups use the stack's key (retention comes from provider).
    extensions[`${id}LogGroup`] = {
      Properties: { KmsKeyId: { 'Fn::GetAtt': ['LogKey', 'Arn'] } },
    };
  }
  return { functions, resources: { Resources: resources, extensions } };
}
