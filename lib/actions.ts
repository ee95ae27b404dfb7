/** Sends any rule's action: the command it declared, with the action's typed params, in the action's region. */
import type { AwsClients } from './aws.js';
import type { Action, AnyRule, CommandSpec } from './rule.js';

export class UndeclaredActionError extends Error {
  override name = 'UndeclaredActionError';
}

export async function sendAction(aws: AwsClients, rule: AnyRule, action: Action, region: string): Promise<void> {
  const spec = (rule.commands as Record<string, CommandSpec | undefined>)[action.api];
  if (spec === undefined) throw new UndeclaredActionError(`${rule.id} plans ${action.api}, which it does not declare`);
  const client = aws.client(spec.client, action.region ?? region);
  await client.send(new spec.command(action.params as never) as never);
}
