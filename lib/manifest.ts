/**
 * What serverless.yml derives from the registry: each guard's function, EventBridge patterns and least-privilege role.
 * Pure data; scripts/build.ts bundles it for serverless.yml's ${file(...)} resolver, and tests read the packaged result.
 */
import type { Guard } from './guard.js';
import type { AnyRuleDeclaration, Commands, PermissionDeclaration, Trigger } from './rule.js';

export type EventPattern = Record<string, unknown>;

const SESSION_ISSUER_ARN = (condition: unknown) => ({
  userIdentity: { sessionContext: { sessionIssuer: { arn: [condition] } } },
});

/** What a set of rules listens to, grouped by event source in the rules' order: the detail-types and event names of each. */
export function triggersBySource(
  rules: readonly { trigger: Trigger }[],
): { source: string; detailTypes: string[]; eventNames: string[] }[] {
  const bySource = new Map<string, { detailTypes: Set<string>; eventNames: Set<string> }>();
  for (const { trigger } of rules) {
    const entry = bySource.get(trigger.source) ?? { detailTypes: new Set(), eventNames: new Set() };
    for (const type of trigger.detailTypes) entry.detailTypes.add(type);
    for (const name of trigger.eventNames) entry.eventNames.add(name);
    bySource.set(trigger.source, entry);
  }
  return [...bySource.entries()].map(([source, { detailTypes, eventNames }]) => ({
    source,
    detailTypes: [...detailTypes].sort(),
    eventNames: [...eventNames].sort(),
  }));
}

/**
 * What no pattern lets through, under `detail`: failed calls and the engine's own roles, by exact ARN. The ARNs are
 * strings or CloudFormation values (Fn::Sub) that resolve to the roles' ARNs.
 */
export function engineExclusion(engineRoleArns: readonly unknown[]): Record<string, unknown> {
  return {
    errorCode: [{ exists: false }],
    // anything-but alone would drop events that lack the field (IAM users, root): $or with exists:false keeps them.
    $or: [SESSION_ISSUER_ARN({ exists: false }), SESSION_ISSUER_ARN({ 'anything-but': [...engineRoleArns] })],
  };
}

/** One pattern per event source, with the engine's exclusion. */
export function eventPatterns(guard: Pick<Guard, 'rules'>, engineRoleArns: readonly unknown[]): EventPattern[] {
  return triggersBySource(guard.rules).map(({ source, detailTypes, eventNames }) => ({
    source: [source],
    'detail-type': detailTypes,
    detail: { eventName: eventNames, ...engineExclusion(engineRoleArns) },
  }));
}

/**
 * The engine's own roles, by name: each guard's, the sweep's and the backup's, in the stack named <service>-<stage>.
 * Every function of the stack runs as one of these; a new function adds its role here.
 */
export function engineRoleNames(stackName: string, guards: readonly Pick<Guard, 'file'>[]): string[] {
  return [
    ...guards.map((guard) => `${stackName}-${guard.file}`),
    `${stackName}-sweep`,
    `${stackName}-backup`,
    `${stackName}-${ALARM_NOTICE_FILE}`,
  ];
}

/** The alarm-notice function's entry (functions/alarm-notice.ts), artifact and role suffix. */
export const ALARM_NOTICE_FILE = 'alarm-notice';

export interface PolicyStatement {
  Effect: 'Allow';
  Action: string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The union of the guard's rules' declared actions, grouped by resource and condition; nothing else. */
export function ruleStatements(guard: { rules: readonly AnyRuleDeclaration[] }): PolicyStatement[] {
  const grouped = new Map<string, { declaration: PermissionDeclaration; actions: Set<string> }>();
  for (const declaration of guard.rules.flatMap(rulePermissions)) {
    const key = JSON.stringify([declaration.resource, declaration.condition ?? null]);
    const entry = grouped.get(key) ?? { declaration, actions: new Set<string>() };
    for (const action of declaration.actions) entry.actions.add(action);
    grouped.set(key, entry);
  }
  return [...grouped.values()].map(({ declaration, actions }) => ({
    Effect: 'Allow',
    Action: [...actions].sort(),
    Resource: Array.isArray(declaration.resource)
      ? declaration.resource.map(subResource)
      : subResource(declaration.resource),
    // Condition values may name stack resources (${MfaQuarantinePolicy}): each goes through Fn::Sub like the resource.
    ...(declaration.condition ? { Condition: subConditions(declaration.condition) } : {}),
  }));
}

// A resource with no variable ("*" for actions IAM gives no resource type) needs no Fn::Sub (cfn-lint W1020).
const subResource = (resource: string) => (resource.includes('${') ? { 'Fn::Sub': resource } : resource);

function subConditions(condition: Record<string, Record<string, string>>): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(condition).map(([operator, entries]) => [
      operator,
      Object.fromEntries(
        Object.entries(entries).map(([key, value]) => [key, value.includes('${') ? { 'Fn::Sub': value } : value]),
      ),
    ]),
  );
}

/** A rule's IAM needs: its reads, and each declared command's action on the command's resource. */
export function rulePermissions(rule: AnyRuleDeclaration): PermissionDeclaration[] {
  const writes = Object.entries(rule.commands as Commands).flatMap(([action, spec]) => [
    { actions: [action], resource: spec.resource, ...(spec.condition ? { condition: spec.condition } : {}) },
    ...(spec.alsoNeeds ?? []),
  ]);
  return [...rule.reads, ...writes];
}

/** The IAM actions a guard's role allows for its rules, flattened (for the least-privilege test). */
export function declaredActions(guard: Guard): string[] {
  return [...new Set(guard.rules.flatMap((rule) => rulePermissions(rule).flatMap((p) => p.actions)))].sort();
}
