/**
 * The guards as the stack deploys them, for the sweep function to invoke: the bundles scripts/build.ts makes, created
 * as Lambda functions in the emulator (which runs a nodejs function's zip with node on Invoke), with the engine's
 * settings as their environment.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, DeleteFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GUARDS } from '../../lib/registry.js';
import { SWEEP_PLAN } from '../../lib/sweep/plan.js';
import { buildAll } from '../../scripts/build.js';
import { emulatorClientConfig } from '../../scripts/provision.js';
import { testEndpoint } from './emulator.js';

/** Builds every bundle into a temporary folder; returns it. */
export async function buildBundles(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'driftguard-guards-'));
  await buildAll(process.cwd(), dir);
  return dir;
}

/** The function name of a guard in these tests. */
export const guardFunctionName = (functionKey: string) => `driftguard-test-${functionKey}`;

/**
 * Creates each guard the sweep has a pass for as a function in the home region, its environment the engine's
 * settings now (DRIFTGUARD_*) with `variables` on top (a function already there is made again: a cold start that
 * reads them); returns DRIFTGUARD_GUARD_FUNCTIONS for the sweep.
 */
export async function deployGuardFunctions(buildDir: string, variables: Record<string, string> = {}): Promise<string> {
  const home = process.env.AWS_REGION ?? 'us-east-1';
  const config = emulatorClientConfig(testEndpoint(), home);
  // The emulator's CreateFunction wants a role that exists, as Lambda does.
  const iam = new IAMClient(config);
  const RoleName = 'driftguard-test-guards';
  const { Role } = await iam
    .send(
      new CreateRoleCommand({
        RoleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    )
    .catch(async (error: unknown) => {
      if ((error as Error).name !== 'EntityAlreadyExistsException') throw error;
      return iam.send(new GetRoleCommand({ RoleName }));
    });
  const settings = Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[0].startsWith('DRIFTGUARD_') && entry[1] !== undefined,
    ),
  );
  const lambda = new LambdaClient(config);
  const keys = new Set(SWEEP_PLAN.passes.map((pass) => pass.functionKey));
  const entries: string[] = [];
  for (const guard of GUARDS.filter(({ functionKey }) => keys.has(functionKey))) {
    const name = guardFunctionName(guard.functionKey);
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name })).catch((error: unknown) => {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    });
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Role: Role?.Arn,
        Code: { ZipFile: readFileSync(join(buildDir, `${guard.file}.zip`)) },
        Timeout: 60,
        MemorySize: 512,
        Environment: { Variables: { ...settings, ...variables } },
      }),
    );
    entries.push(`${guard.functionKey}=${name}`);
  }
  return entries.join(',');
}
