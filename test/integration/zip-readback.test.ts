/** The archive writer checked by an independent reader: Python's zipfile (Python is here for the emulator). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createZip } from '../../scripts/zip.js';
import { INDEX, SOURCE_MAP, sampleEntries } from '../fixtures/zip-entries.js';

const dir = mkdtempSync(join(tmpdir(), 'driftguard-zip-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const PYTHON_CHECK = `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps({
  "testzip": z.testzip(),
  "entries": [
    {"name": i.filename, "size": i.file_size, "method": i.compress_type, "date": list(i.date_time),
     "mode": oct(i.external_attr >> 16), "utf8": bool(i.flag_bits & 0x800)}
    for i in z.infolist()
  ],
  "index": z.read("index.mjs").decode("utf-8"),
}))
`;

function readWithPython(zip: Buffer, name: string) {
  const file = join(dir, name);
  writeFileSync(file, zip);
  return JSON.parse(execFileSync('python3', ['-c', PYTHON_CHECK, file], { encoding: 'utf8' })) as {
    testzip: string | null;
    entries: { name: string; size: number; method: number; date: number[]; mode: string; utf8: boolean }[];
    index: string;
  };
}

describe('createZip read back by Python', () => {
  it('writes a zip that Python reads back intact', () => {
    // Act
    const zip = createZip(sampleEntries());

    // Assess
    const read = readWithPython(zip, 'valid.zip');
    expect(read.testzip).toBeNull();
    expect(read.index).toBe(INDEX);
    expect(read.entries.map(({ name, size }) => [name, size])).toEqual([
      ['index.mjs', Buffer.byteLength(INDEX)],
      ['index.mjs.map', SOURCE_MAP.length],
      ['données/empty.txt', 0],
    ]);
    for (const entry of read.entries) {
      expect(entry).toMatchObject({ method: 8, date: [1980, 1, 1, 0, 0, 0], mode: '0o100644', utf8: true });
    }
  });
});
