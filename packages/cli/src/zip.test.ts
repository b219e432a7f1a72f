import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildZip, crc32, zipDirectory } from './zip.js';

/** Reads a zip back through its central directory, the way unzip (and the runtime proxy) do. */
function readZip(buf: Buffer): Map<string, Buffer> {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const off = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nlen).toString('utf8');
    const dataStart = off + 30 + buf.readUInt16LE(off + 26) + buf.readUInt16LE(off + 28);
    const data = buf.subarray(dataStart, dataStart + csize);
    const content = method === 8 ? inflateRawSync(data) : Buffer.from(data);
    expect(crc32(content)).toBe(buf.readUInt32LE(p + 16));
    out.set(name, content);
    p += 46 + nlen + xlen + clen;
  }
  return out;
}

describe('zip writer', () => {
  it('crc32 matches the reference value', () => expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926));
  it('round-trips stored and deflated entries', () => {
    const big = Buffer.from('a'.repeat(10_000));
    const z = readZip(buildZip([{ name: 'tiny', data: Buffer.from('x') }, { name: 'dir/big.txt', data: big }]));
    expect(z.get('tiny')?.toString()).toBe('x');
    expect(z.get('dir/big.txt')?.equals(big)).toBe(true);
  });
  it('zips a directory tree with relative forward-slash names', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'zipdir-'));
    mkdirSync(path.join(dir, 'lib'));
    writeFileSync(path.join(dir, 'index.js'), 'exports.main = () => ({})');
    writeFileSync(path.join(dir, 'lib', 'util.js'), 'module.exports = 1');
    expect([...readZip(zipDirectory(dir)).keys()]).toEqual(['index.js', 'lib/util.js']);
  });
});
