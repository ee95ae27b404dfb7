/** npm run demo: the embedded emulator, a --reenact replay of every sample in events/, then a summary table. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome } from '../lib/rule.js';
import { BadInputError, runReplay } from './replay.js';

const COLUMNS: Outcome[] = ['remediated', 'compliant', 'ignored', 'planned', 'needs-human', 'failed'];

export async function runDemo(print: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
  const files = readdirSync('events')
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join('events', name));
  print(`driftguard demo: ${files.length} sample events, replayed with --reenact on the embedded emulator\n`);
  const report = await runReplay({ files, emulator: true, reenact: true, print: (line) => print(`${line}\n`) });
  const counts = Object.fromEntries(COLUMNS.map((outcome) => [outcome, 0])) as Record<Outcome, number>;
  for (const { result } of report.items) counts[result.outcome] += 1;
  const header = ['events', ...COLUMNS];
  const row = [String(report.items.length), ...COLUMNS.map((outcome) => String(counts[outcome]))];
  const widths = header.map((title, i) => Math.max(title.length, (row[i] ?? '').length));
  print('summary');
  print(header.map((title, i) => title.padStart(widths[i] ?? 0)).join('  '));
  print(row.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  '));
  return report;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const report = await runDemo();
    process.exitCode = report.exitCode;
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n`);
    process.exitCode = error instanceof BadInputError ? 2 : 1;
  }
}
