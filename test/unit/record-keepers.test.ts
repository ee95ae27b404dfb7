/**
 * Each guard, loaded on its own as its Lambda bundle loads it, has the keeper of every record kind its rules make
 * (lib/records.ts). A record with no keeper fails the event after its writes: the activity guard, which links a trail
 * and makes its baseline follow, once loaded no trail-baseline keeper. The kinds are found in the rules' own source.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const RECORD_KINDS = [
  'key-usage',
  'trail-baseline',
  'config-baseline',
  'guardduty-baseline',
  'quarantine',
  'quarantine-released',
] as const;

/** The record kinds a module makes, read from its source (`kind: 'quarantine'`), and from the modules it imports. */
function kindsMadeBy(file: string, seen = new Set<string>()): Set<string> {
  const kinds = new Set<string>();
  if (seen.has(file)) return kinds;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const kind of RECORD_KINDS)
    if (source.includes(`kind: '${kind}'`) && !file.endsWith('/rule.ts')) kinds.add(kind);
  for (const [, relative] of source.matchAll(/from '(\.[^']+)\.js'/g)) {
    const next = new URL(`${relative}.ts`, `file://${file}`).pathname;
    for (const kind of kindsMadeBy(next, seen)) kinds.add(kind);
  }
  return kinds;
}

const GUARD_FILES = [
  'log-group-guard',
  'trail-guard',
  'kms-guard',
  'mfa-guard',
  'config-guard',
  'activity-guard',
  'guardduty-guard',
];

describe('record keepers per guard', () => {
  it.each(GUARD_FILES)('%s loads the keeper of every record its rules make', async (guard) => {
    const file = new URL(`../../lib/guards/${guard}.ts`, import.meta.url).pathname;
    const made = [...kindsMadeBy(file)];
    vi.resetModules();
    await import(`../../lib/guards/${guard}.ts`);
    const { keeperLoaded } = await import('../../lib/records.js');
    expect(made.filter((kind) => !keeperLoaded(kind as (typeof RECORD_KINDS)[number]))).toEqual([]);
  });

  it('finds the kinds each guard makes (the table the test above relies on)', () => {
    const made = Object.fromEntries(
      GUARD_FILES.map((guard) => [
        guard,
        [...kindsMadeBy(new URL(`../../lib/guards/${guard}.ts`, import.meta.url).pathname)].sort(),
      ]),
    );
    expect(made).toEqual({
      'log-group-guard': ['key-usage'],
      'trail-guard': ['trail-baseline'],
      'kms-guard': [],
      'mfa-guard': ['quarantine', 'quarantine-released'],
      'config-guard': ['config-baseline'],
      'activity-guard': ['trail-baseline'],
      'guardduty-guard': ['guardduty-baseline'],
    });
  });
});
