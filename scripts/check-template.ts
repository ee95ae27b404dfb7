/**
 * Checks that every Ref, Fn::GetAtt, ${...} of Fn::Sub, Fn::FindInMap and condition name in a CloudFormation template
 * names something the template defines (a resource, a parameter, a pseudo parameter, a mapping, a condition), and
 * that a resource created only under a condition is referenced only where that condition holds.
 * `npm run check-template -- <template.json>...`: one line per dangling reference; exit 1 when there is any.
 */
import { readFileSync } from 'node:fs';

/** AWS's pseudo parameters: defined in every stack, whatever its conditions. */
export const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

export interface DanglingReference {
  /** Where the reference is, e.g. Resources.Topic.Properties.KmsMasterKeyId. */
  path: string;
  kind: 'Ref' | 'Fn::GetAtt' | 'Fn::Sub' | 'Fn::FindInMap' | 'Condition';
  name: string;
  problem: string;
}

interface Template {
  Parameters?: Record<string, unknown>;
  Mappings?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Resources?: Record<string, { Condition?: string } & Record<string, unknown>>;
  Outputs?: Record<string, { Condition?: string } & Record<string, unknown>>;
}

/** The names a ${...} of Fn::Sub refers to: `${Name}` or `${Name.Attribute}`; `${!Literal}` is no reference. */
export function subReferences(text: string): string[] {
  return [...text.matchAll(/\$\{([^}!][^}]*)\}/g)].map((match) => {
    const name = match[1] ?? '';
    return PSEUDO_PARAMETERS.has(name) ? name : (name.split('.')[0] ?? name);
  });
}

export function danglingReferences(template: Template): DanglingReference[] {
  const resources = template.Resources ?? {};
  const parameters = new Set(Object.keys(template.Parameters ?? {}));
  const mappings = new Set(Object.keys(template.Mappings ?? {}));
  const conditions = new Set(Object.keys(template.Conditions ?? {}));
  const found: DanglingReference[] = [];

  const report = (path: string, kind: DanglingReference['kind'], name: string, problem: string) =>
    found.push({ path, kind, name, problem });

  /** A resource, parameter or pseudo parameter, present wherever `holding` conditions hold. */
  const checkName = (
    path: string,
    kind: DanglingReference['kind'],
    name: string,
    holding: ReadonlySet<string>,
    locals: ReadonlySet<string> = new Set(),
    resourceOnly = false,
  ) => {
    if (locals.has(name)) return;
    if (!resourceOnly && (parameters.has(name) || PSEUDO_PARAMETERS.has(name))) return;
    const resource = resources[name];
    if (resource === undefined) {
      report(path, kind, name, resourceOnly ? 'no such resource' : 'no such resource, parameter or pseudo parameter');
    } else if (resource.Condition !== undefined && !holding.has(resource.Condition)) {
      report(path, kind, name, `exists only when ${resource.Condition} holds, which is not known here`);
    }
  };

  const checkCondition = (path: string, name: unknown) => {
    if (typeof name !== 'string' || !conditions.has(name)) report(path, 'Condition', String(name), 'no such condition');
  };

  /** An intrinsic function (a one-key object) checked and walked; false when the object is plain data. */
  const intrinsic = (key: string, value: unknown, path: string, holding: ReadonlySet<string>): boolean => {
    if (key === 'Ref') {
      checkName(path, 'Ref', String(value), holding);
    } else if (key === 'Fn::GetAtt') {
      const target = Array.isArray(value) ? value[0] : String(value).split('.')[0];
      checkName(path, 'Fn::GetAtt', String(target), holding, new Set(), true);
    } else if (key === 'Fn::Sub') {
      const [text, variables] = Array.isArray(value) ? value : [value, {}];
      const locals = new Set(Object.keys(variables ?? {}));
      for (const name of subReferences(String(text))) checkName(path, 'Fn::Sub', name, holding, locals);
      walk(variables, `${path}.Fn::Sub[1]`, holding);
    } else if (key === 'Fn::FindInMap' && Array.isArray(value)) {
      const map = value[0];
      if (typeof map === 'string' && !mappings.has(map)) report(path, 'Fn::FindInMap', map, 'no such mapping');
      walk(value.slice(1), `${path}.Fn::FindInMap`, holding);
    } else if (key === 'Fn::If' && Array.isArray(value)) {
      const [condition, whenTrue, whenFalse] = value;
      checkCondition(`${path}.Fn::If[0]`, condition);
      walk(whenTrue, `${path}.Fn::If[1]`, new Set([...holding, String(condition)]));
      walk(whenFalse, `${path}.Fn::If[2]`, holding);
    } else if (key === 'Condition' && path.startsWith('Conditions.')) {
      // Inside Conditions, { Condition: Name } refers to another condition.
      checkCondition(path, value);
    } else {
      return false;
    }
    return true;
  };

  const walk = (node: unknown, path: string, holding: ReadonlySet<string>): void => {
    if (Array.isArray(node)) {
      node.forEach((item, index) => {
        walk(item, `${path}[${index}]`, holding);
      });
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const entries = Object.entries(node);
    const [key, value] = entries[0] ?? [];
    if (entries.length === 1 && key !== undefined && intrinsic(key, value, path, holding)) return;
    for (const [child, value] of entries) walk(value, `${path}.${child}`, holding);
  };

  for (const [name, definition] of Object.entries(template.Conditions ?? {})) {
    walk(definition, `Conditions.${name}`, new Set());
  }
  for (const section of ['Resources', 'Outputs'] as const) {
    for (const [name, entry] of Object.entries(template[section] ?? {})) {
      const path = `${section}.${name}`;
      const holding = new Set<string>();
      if (entry.Condition !== undefined) {
        checkCondition(`${path}.Condition`, entry.Condition);
        holding.add(entry.Condition);
      }
      const { Condition: _condition, DependsOn: dependsOn, ...rest } = entry;
      for (const dependency of [dependsOn ?? []].flat()) {
        checkName(`${path}.DependsOn`, 'Ref', String(dependency), holding, new Set(), true);
      }
      walk(rest, path, holding);
    }
  }
  return found;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npm run check-template -- <template.json>...');
    process.exit(2);
  }
  let dangling = 0;
  for (const file of files) {
    const found = danglingReferences(JSON.parse(readFileSync(file, 'utf8')) as Template);
    for (const { path, kind, name, problem } of found) console.log(`${file}: ${path}: ${kind} ${name}: ${problem}`);
    if (found.length === 0) console.log(`${file}: every reference names something the template defines`);
    dangling += found.length;
  }
  process.exit(dangling === 0 ? 0 : 1);
}
