/** The archive writer's own guarantees; test/integration/zip-readback.test.ts reads it back with Python. */
import { crc32, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createZip } from '../../scripts/zip.js';
import { INDEX, sampleEntries } from '../fixtures/zip-entries.js';

/** Reads the entries as an unzip does: from the central directory to each local header, then inflate. */
function readBack(zip: Buffer): { name: string; data: Buffer; crcMatches: boolean }[] {
  const end = zip.length - 22;
  let at = zip.readUInt32LE(end + 16);
  return Array.from({ length: zip.readUInt16LE(end + 10) }, () => {
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = inflateRawSync(zip.subarray(start, start + zip.readUInt32LE(at + 20)));
    const crcMatches = crc32(data) === zip.readUInt32LE(at + 16);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    return { name, data, crcMatches };
  });
}

describe('createZip', () => {
  it('gives every entry back through its central directory record, CRC intact', () => {
    // Act
    const zip = createZip(sampleEntries());

    // Assess
    expect(readBack(zip)).toEqual(sampleEntries().map(({ name, data }) => ({ name, data, crcMatches: true })));
  });

  it('deflates the data', () => {
    // Act
    const zip = createZip(sampleEntries());

    // Assess
    expect(zip.length).toBeLessThan(Buffer.byteLength(INDEX));
  });

  it('gives byte-identical output for identical input', () => {
    // Act
    const first = createZip(sampleEntries());
    const second = createZip(sampleEntries());

    // Assess
    expect(second.equals(first)).toBe(true);
  });

  it('changes when the content changes', () => {
    // Prepare
    const changed = sampleEntries();
    changed[0] = { name: 'index.mjs', data: Buffer.from(`${INDEX}// changed\n`) };

    // Act
    const zip = createZip(changed);

    // Assess
    expect(zip.equals(createZip(sampleEntries()))).toBe(false);
  });

  it('writes an empty archive as a bare end-of-central-directory record', () => {
    // Act
    const zip = createZip([]);

    // Assess
    expect(zip).toHaveLength(22);
    expect(zip.readUInt32LE(0)).toBe(0x06054b50);
  });
});
