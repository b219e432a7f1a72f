/**
 * The checked-in bundle (dist/) records a hash of what it was built from; a unit test recomputes it
 * so that a change to web/ without `pnpm build:console` fails CI instead of shipping a stale console.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageDir = fileURLToPath(new URL('..', import.meta.url));
export const BUILD_INFO = 'build-info.json';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .sort();
}

/** sha256 over web/, the Vite config and the package manifest (dependency versions), by relative path. */
export function sourceHash(root = packageDir): string {
  const h = createHash('sha256');
  for (const file of [...files(path.join(root, 'web')), path.join(root, 'vite.config.ts'), path.join(root, 'package.json')]) {
    h.update(path.relative(root, file).split(path.sep).join('/'));
    h.update('\0');
    h.update(readFileSync(file, 'utf8').replace(/\r\n/g, '\n'));
    h.update('\0');
  }
  return h.digest('hex');
}
