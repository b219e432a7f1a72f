/** Zipping a directory on the fly, so it can be uploaded as an action without an external zip tool. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildZip, type ZipEntry } from '@whirl/core';

export { buildZip, crc32, type ZipEntry } from '@whirl/core';

/** Every regular file under dir, with forward-slash relative names, in a stable order. */
export function zipDirectory(dir: string): Buffer {
  const entries: ZipEntry[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = statSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else if (st.isFile()) entries.push({ name: r, data: readFileSync(path.join(dir, r)), mode: st.mode & 0o777 });
    }
  };
  walk('');
  return buildZip(entries);
}
