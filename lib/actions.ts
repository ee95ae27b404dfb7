/** Sends any rule's action: the command it declared, with the action's typed params, in the action's region. */
import type { AwsClients, ClientClass } from './aws.js';

interface CommandSender {
  send(command: unknown): Promise<unknown>;
}

import type { Action, AnyRuleDeclaration, CommandSpec } from './rule.js';

export class UndeclaredActionError extends Error {
  override name = 'UndeclaredActionError';
}

export async function sendAction(
  aws: AwsClients,
  rule: AnyRuleDeclaration,
  action: Action,
  region: string,
): Promise<void> {
  const spec = (rule.commands as Record<string, CommandSpec | undefined>)[action.api];
  if (spec === undefined) throw new UndeclaredActionError(`${rule.id} plans ${action.api}, which it does not declare`);
  // The action's params are typed from this very declaration (ActionOf): the pairing holds by construction.
  const client = aws.client(spec.client as ClientClass<CommandSender>, action.region ?? region);
  const Command = spec.command as new (input: object) => unknown;
  const params = action.resolve ? await action.resolve(aws, action.region ?? region) : action.params;
  await client.send(new Command(params));
}
