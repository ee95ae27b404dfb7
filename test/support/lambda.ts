/** What Lambda hands a function besides its event, for tests that invoke an entry the way Lambda does. */
import type { Context } from 'aws-lambda';

/** The context of one invocation of `functionName` in `region`, with `remainingMs` left before its time limit. */
export function invocationContext(
  functionName: string,
  { region = 'us-east-1', account = '123456789012', remainingMs = 60_000, requestId = 'test-invocation' } = {},
): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
