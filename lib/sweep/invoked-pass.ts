/**
 * The sweep function's passes over the guards' rules: each page is one synchronous Lambda invocation of the guard
 * that holds the rule (a page request, lib/sweep/page.ts), so that every fix is made with that guard's own role and
 * the sweep's role holds no guard's powers, only lambda:InvokeFunction on the guards it names.
 */
import { randomBytes } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type AwsClients, createAwsClients } from '../aws.js';
import { OUTCOMES, type Severity } from '../rule.js';
import { endRun, PAGE_REQUEST_KIND, type PageItem, type PageRequest, type PageResult, registerRun } from './page.js';
import type { PlannedPass } from './plan.js';
import type { SweepPass, SweepRunOf } from './sweep.js';

/**
 * How long the sweep waits for one attempt at a page: a guard's whole timeout (60 s, serverless.yml) and its cold
 * start. An attempt that fails (a 5xx, a reset connection) is made once more: two attempts at most.
 */
export const INVOKE_TIMEOUT_MS = 70_000;
export const INVOKE_ATTEMPTS = 2;

/**
 * The sweep function starts no page this close to its time limit: a page started just before may take both attempts
 * in full, and the cursor must still be saved after them (test/integration/deployment.test.ts holds the guards'
 * timeout, these and the margin together).
 */
export const SWEEP_MARGIN_MS = INVOKE_ATTEMPTS * INVOKE_TIMEOUT_MS + 20_000;

/**
 * The clients the sweep invokes the guards with: of their own, with standard retries (so that a guard refused, or
 * throttled, slows no other) and INVOKE_ATTEMPTS attempts of INVOKE_TIMEOUT_MS at most.
 */
export function guardInvokeClients(): AwsClients {
  return createAwsClients({
    retryMode: 'standard',
    maxAttempts: INVOKE_ATTEMPTS,
    requestHandler: new NodeHttpHandler({ requestTimeout: INVOKE_TIMEOUT_MS }),
  });
}

/** A guard that failed a page (its handler threw, or timed out): the error Lambda reported. */
export class GuardPageError extends Error {
  override name = 'GuardPageError';
}

const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];
const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * DRIFTGUARD_GUARD_FUNCTIONS ("logGroupGuard=driftguard-dev-logGroupGuard,...", set by the manifest): the function
 * of each guard the plan names. A pass whose guard has no function is refused at start, never skipped.
 */
export function parseGuardFunctions(text: string | undefined, passes: readonly PlannedPass[]): Record<string, string> {
  const functions: Record<string, string> = {};
  for (const entry of (text ?? '').split(',').filter((part) => part.trim() !== '')) {
    const [key, name] = entry.split('=').map((part) => part.trim());
    if (!key || !name || !FUNCTION_NAME.test(name))
      throw new Error(`DRIFTGUARD_GUARD_FUNCTIONS: "${entry}" is not guardKey=function-name`);
    functions[key] = name;
  }
  for (const { pass, functionKey } of passes) {
    if (!functions[functionKey])
      throw new Error(
        `DRIFTGUARD_GUARD_FUNCTIONS names no function for ${functionKey}, whose ${pass} pass the sweep runs`,
      );
  }
  return functions;
}

function pageItem(value: unknown): value is PageItem {
  const item = value as Record<string, unknown> | null;
  return (
    typeof item === 'object' &&
    item !== null &&
    ['rule', 'region', 'resource', 'reason'].every((field) => typeof item[field] === 'string') &&
    OUTCOMES.includes(item.outcome as never) &&
    SEVERITIES.includes(item.severity as never) &&
    Array.isArray(item.actions) &&
    item.actions.every((action) => typeof action === 'string')
  );
}

/** The page a guard answered, checked field by field: an answer of another shape is the guard's failure. */
export function pageResultOf(answer: unknown, where: string): PageResult {
  const page = answer as Record<string, unknown> | null;
  if (
    typeof page !== 'object' ||
    page === null ||
    typeof page.seen !== 'number' ||
    !Array.isArray(page.items) ||
    !page.items.every(pageItem) ||
    (page.next !== undefined && typeof page.next !== 'string')
  )
    throw new GuardPageError(`${where} answered something that is not a sweep page`);
  return page as unknown as PageResult;
}

/** The guards' passes, and how the runs they registered end (their records deleted: no guard serves them any more). */
export interface InvokedPasses {
  passes: SweepPass[];
  endRuns(): Promise<void>;
}

/**
 * The plan's passes, each page an invocation of its guard's function in the home region (through `invoke`: clients of
 * their own, whose retries no guard's throttling slows for the others), each run registered in the state table
 * (through `aws`) with a secret of its own before its first page; the guards keep the sweep's rate limits (none: off).
 */
export function invokedPasses(
  plan: readonly PlannedPass[],
  functions: Record<string, string>,
  clients: { aws: AwsClients; invoke: AwsClients },
  home: string,
  limits?: Record<string, number>,
): InvokedPasses {
  const runs = new Map<string, { table: string; secret: string; registered: Promise<void> }>();
  const register = (table: string | undefined, sweepId: string, run: SweepRunOf) => {
    if (!table) throw new Error('the guards serve pages only for a run registered in the state table: none is set');
    let kept = runs.get(run.id);
    if (kept === undefined) {
      const secret = randomBytes(32).toString('hex');
      const registered = registerRun(clients.aws, table, { sweepId, run: run.id, secret, regions: run.regions });
      kept = { table, secret, registered };
      runs.set(run.id, kept);
      registered.catch(() => runs.delete(run.id));
    }
    return kept;
  };
  const passes = plan.map((planned): SweepPass => {
    const functionName = functions[planned.functionKey] as string;
    const { pass, rule, severity, onlyRegion } = planned;
    return {
      pass,
      rule,
      severity,
      ...(onlyRegion ? { onlyRegion } : {}),
      async page(region, token, ctx, run) {
        const { secret, registered } = register(ctx.settings.stateTable, ctx.sweepId, run);
        await registered;
        const request: PageRequest = {
          kind: PAGE_REQUEST_KIND,
          version: 1,
          pass,
          region,
          ...(token ? { token } : {}),
          sweepId: ctx.sweepId,
          run: run.id,
          secret,
          ...(limits ? { limits } : {}),
        };
        const where = `${functionName} (the ${pass} page in ${region})`;
        const answer = await clients.invoke.client(LambdaClient, home).send(
          new InvokeCommand({
            FunctionName: functionName,
            Payload: new TextEncoder().encode(JSON.stringify(request)),
          }),
        );
        const text = new TextDecoder().decode(answer.Payload ?? new Uint8Array());
        let body: unknown;
        try {
          body = JSON.parse(text || 'null');
        } catch {
          throw new GuardPageError(`${where} answered something that is not JSON`);
        }
        if (answer.FunctionError) {
          const { errorType, errorMessage } = (body ?? {}) as { errorType?: unknown; errorMessage?: unknown };
          throw new GuardPageError(
            `${where} failed: ${String(errorType ?? answer.FunctionError)}: ${String(errorMessage ?? '')}`,
          );
        }
        return pageResultOf(body, where);
      },
    };
  });
  return {
    passes,
    async endRuns() {
      const ended = [...runs.entries()];
      runs.clear();
      await Promise.all(ended.map(([run, { table }]) => endRun(clients.aws, table, run)));
    },
  };
}
