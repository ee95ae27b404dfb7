// Runs one Lambda invocation of a Node.js function for the emulator (scripts/emulator/lambda_patches.py).
//
// stdin: one JSON document {codeDir, handler, payload (JSON text), resultFile, timeoutMs, context: {functionName,
// functionVersion, invokedFunctionArn, memoryLimitInMB, awsRequestId, logGroupName, logStreamName}}.
// The outcome goes to resultFile as one JSON document: {result: <JSON text>} | {error: {errorType, errorMessage, trace}}
// | {timedOut: true}; resultFile + '.started' is written when the handler is called. stdout and stderr are the
// function's own (its logs), never the answer.
//
// As the Node.js runtime does (aws-lambda-nodejs-runtime-interface-client, UserFunction.js and Errors.js): the handler
// `dir/module.fn` is the export `fn` of dir/module.js, .mjs or .cjs under the code directory; an async handler's value
// or a callback handler's (event, context, callback) answer is the result; a thrown Error becomes {errorType: name,
// errorMessage: message, trace: stack's lines}, any other thrown value {errorType: typeof, errorMessage: String(v),
// trace: []}. The process exits once the answer is written (AWS freezes the sandbox then).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { types } from 'node:util';

const spec = JSON.parse(readFileSync(0, 'utf8'));
let finished = false;

function finish(outcome) {
  if (finished) return;
  finished = true;
  writeFileSync(spec.resultFile, JSON.stringify(outcome));
  process.exit(0);
}

function errorBody(error) {
  try {
    const isError =
      types.isNativeError(error) ||
      (error && typeof error.name === 'string' && typeof error.message === 'string' && typeof error.stack === 'string');
    if (isError) return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return { errorType: 'handled', errorMessage: 'the thrown value could not be read' };
  }
}

function fail(errorType, errorMessage) {
  finish({ error: { errorType, errorMessage, trace: [] } });
}

process.on('uncaughtException', (error) => finish({ error: errorBody(error) }));
process.on('unhandledRejection', (reason) =>
  finish({
    error: {
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: `${types.isNativeError(reason) ? `${reason.name}: ${reason.message}` : String(reason)}`,
      trace: types.isNativeError(reason) && reason.stack ? reason.stack.split('\n') : [],
    },
  }),
);

async function loadHandler() {
  const handler = spec.handler;
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot < 0) return fail('Runtime.MalformedHandlerName', 'Bad handler');
  const modulePath = resolve(spec.codeDir, handler.slice(0, dot));
  const functionPath = handler.slice(dot + 1).split('.');
  const file = ['.js', '.mjs', '.cjs'].map((ext) => modulePath + ext).find((candidate) => existsSync(candidate));
  if (file === undefined) {
    return fail('Runtime.ImportModuleError', `Error: Cannot find module '${handler.slice(0, dot)}'`);
  }
  let target;
  try {
    target = await import(pathToFileURL(file).href);
  } catch (error) {
    // The runtime names a module that does not parse; any other error thrown while loading is reported as itself.
    if (error instanceof SyntaxError) return fail('Runtime.UserCodeSyntaxError', `SyntaxError: ${error.message}`);
    return finish({ error: errorBody(error) });
  }
  for (const part of functionPath) target = target?.[part] ?? target?.default?.[part];
  if (typeof target !== 'function') return fail('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  return target;
}

const fn = await loadHandler();
if (typeof fn === 'function') {
  let event;
  try {
    event = JSON.parse(spec.payload);
  } catch (error) {
    fail('Runtime.InvalidPayload', String(error));
  }
  // The invoke phase starts: the emulator times it from here too, to kill a handler that blocks the event loop.
  writeFileSync(`${spec.resultFile}.started`, '');
  const deadline = Date.now() + spec.timeoutMs;
  // Keeps the process alive for a handler that never settles, as the runtime's own loop does.
  setTimeout(() => finish({ timedOut: true }), spec.timeoutMs);
  const context = {
    ...spec.context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const answer = (value) => {
    let text;
    try {
      text = JSON.stringify(value === undefined ? null : value);
    } catch (error) {
      return finish({ error: errorBody(error) });
    }
    finish({ result: text ?? 'null' });
  };
  try {
    const returned =
      fn.length >= 3
        ? new Promise((resolveCallback, rejectCallback) => {
            const maybe = fn(event, context, (error, value) =>
              error === null || error === undefined ? resolveCallback(value) : rejectCallback(error),
            );
            if (maybe && typeof maybe.then === 'function') maybe.then(resolveCallback, rejectCallback);
          })
        : fn(event, context);
    answer(await returned);
  } catch (error) {
    finish({ error: errorBody(error) });
  }
}
