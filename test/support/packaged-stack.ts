/**
 * The stack as a new user packages it: the repository's sources copied into an empty folder (no .build, no
 * .serverless; node_modules linked, as `npm ci` would give), then `serverless package` alone, offline, per region.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// biome-ignore lint/suspicious/noExplicitAny: a CloudFormation template is read as loose JSON
export type Resource = { Type: string; Properties: Record<string, any>; Condition?: string } & Record<string, any>;
export interface PackagedTemplate {
  Resources: Record<string, Resource>;
  /** The template file's size, in bytes. */
  bytes: number;
  /** How long `serverless package` took (build included), in seconds. */
  seconds: number;
}

/** What a fresh clone holds that packaging reads; build products and local state are left behind. */
const SOURCES = ['serverless.yml', 'package.json', 'tsconfig.json', 'functions', 'lib', 'scripts'];

/** A fresh copy of the sources, packaged for each region (stage dev); each template read back. */
export function packageFreshClone(regions: string[]): Record<string, PackagedTemplate> {
  const clone = mkdtempSync(join(tmpdir(), 'driftguard-clone-'));
  for (const source of SOURCES) {
    cpSync(resolve(source), join(clone, source), {
      recursive: true,
      filter: (path) => !/(__pycache__|\.pyc$)/.test(path),
    });
  }
  symlinkSync(resolve('node_modules'), join(clone, 'node_modules'), 'dir');
  const templates: Record<string, PackagedTemplate> = {};
  for (const region of regions) {
    const started = performance.now();
    execFileSync(
      join(clone, 'node_modules', '.bin', 'serverless'),
      ['package', '--stage', 'dev', '--region', region, '--package', join(clone, 'packaged', region)],
      {
        cwd: clone,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', AWS_ENDPOINT_URL: '' },
        stdio: 'pipe',
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const file = join(clone, 'packaged', region, 'cloudformation-template-update-stack.json');
    const template = JSON.parse(readFileSync(file, 'utf8'));
    templates[region] = { Resources: template.Resources, bytes: statSync(file).size, seconds };
  }
  return templates;
}

/** A template value with its Fn::Sub strings resolved for one account and region (EventBridge reads literals). */
export function resolveSubs(value: unknown, pseudo: { account: string; region: string }): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveSubs(item, pseudo));
  if (value === null || typeof value !== 'object') return value;
  const sub = (value as Record<string, unknown>)['Fn::Sub'];
  if (typeof sub === 'string') {
    const names: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': pseudo.account,
      'AWS::Region': pseudo.region,
    };
    return sub.replace(/\$\{([^}]+)\}/g, (whole, name: string) => names[name] ?? whole);
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveSubs(item, pseudo)]));
}
