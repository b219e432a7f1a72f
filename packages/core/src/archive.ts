/**
 * The bound on what an action archive unpacks to. The runtime proxies unpack a zip or tar.gz action
 * into the container's filesystem, which lives on the Docker host's disk: a 48 MB archive of zeros
 * would unpack to tens of gigabytes. So the controller inflates the archive once at create time,
 * counting and keeping nothing, and refuses it when it expands past the bound or when an entry
 * inflates to more than its header declares (Python's zipfile writes before it checks sizes).
 * Memory stays at one zlib window; CPU is bounded by the limit.
 */
import type { Transform } from 'node:stream';
import { createGunzip, createInflateRaw } from 'node:zlib';
import { BadRequestError } from './errors.js';

function tooBig(limit: number): BadRequestError {
  return new BadRequestError(
    `The action archive expands to more than ${limit} bytes, the most an action may unpack to; ship fewer or smaller files.`,
  );
}

/** Inflates `input` through `stream`, resolving with the output size, or `limit + 1` once past it. */
function inflatedSize(stream: Transform, input: Uint8Array, limit: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    let done = false;
    stream.on('data', (c: Buffer) => {
      if (done) return;
      n += c.length;
      if (n > limit) {
        done = true;
        stream.destroy();
        resolve(limit + 1);
      }
    });
    stream.on('end', () => {
      if (!done) resolve(n);
    });
    stream.on('error', (e) => {
      if (!done) reject(new BadRequestError(`The action archive is corrupt: ${e.message}.`));
    });
    stream.end(input);
  });
}

async function checkZip(buf: Buffer, limit: number): Promise<void> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new BadRequestError('The action archive is corrupt: a zip needs an end of central directory record.');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || p === 0xffffffff) throw new BadRequestError('The action archive is a zip64 archive, which is not supported; use a plain zip.');
  const entries: { method: number; csize: number; usize: number; dataOff: number }[] = [];
  let declared = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw new BadRequestError('The action archive is corrupt: bad zip central directory.');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const usize = buf.readUInt32LE(p + 24);
    const localOff = buf.readUInt32LE(p + 42);
    p += 46 + buf.readUInt16LE(p + 28) + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    if (localOff + 30 > buf.length || buf.readUInt32LE(localOff) !== 0x04034b50) throw new BadRequestError('The action archive is corrupt: bad zip local header.');
    const dataOff = localOff + 30 + buf.readUInt16LE(localOff + 26) + buf.readUInt16LE(localOff + 28);
    declared += usize;
    if (declared > limit) throw tooBig(limit);
    entries.push({ method, csize, usize, dataOff });
  }
  // The declared sizes fit; now make sure no entry inflates past what it declares.
  for (const e of entries) {
    const data = buf.subarray(e.dataOff, e.dataOff + e.csize);
    const actual = e.method === 8 ? await inflatedSize(createInflateRaw(), data, e.usize) : data.length;
    if (actual > e.usize) throw tooBig(limit);
  }
}

/**
 * Throws a 400 when `code` is a base64 zip or gzip archive that unpacks to more than `limit` bytes.
 * Anything else (plain code, other binaries) passes untouched.
 */
export async function checkArchiveExpansion(code: string, limit: number): Promise<void> {
  const buf = Buffer.from(code, 'base64');
  if (buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04) await checkZip(buf, limit);
  else if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    if ((await inflatedSize(createGunzip(), buf, limit)) > limit) throw tooBig(limit);
  }
}
