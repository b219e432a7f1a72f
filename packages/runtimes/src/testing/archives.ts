/**
 * Archive writers for tests: real zip and tar.gz files, so the proxy's readers are exercised on the
 * same byte layouts the wsk CLI and tar produce.
 */
import { gzipSync } from 'node:zlib';
import { buildZip } from '@whirl/core';

export { crc32 } from '@whirl/core';

export interface ArchiveFile {
  name: string;
  content: string | Buffer;
  /** Zip only: store instead of deflate. */
  store?: boolean;
}

export function makeZip(files: ArchiveFile[]): Buffer {
  // Always deflated unless asked otherwise, so that the proxies' inflate path is what tests exercise.
  return buildZip(
    files.map((f) => ({
      name: f.name,
      data: Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8'),
      method: f.store ? 'store' : 'deflate',
    })),
  );
}

export function makeTarGz(files: ArchiveFile[]): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const data = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content, 'utf8');
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(data.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write('0', 156, 'latin1');
    h.write('ustar\0' + '00', 257, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
