#!/usr/bin/env node
// Launcher for the installed `whirl` binary: the CLI is TypeScript run through tsx, which is resolved from
// this file's location (package, then workspace root) so it works from any working directory and through
// the symlinks pnpm/npm create for bins.
import { realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(realpathSync(fileURLToPath(import.meta.url)));
let api;
try {
  // ESM resolution from this file, so the ESM build of the API is picked (the CJS one cannot register hooks here).
  api = import.meta.resolve('tsx/esm/api');
} catch {
  process.stderr.write('error: whirl needs tsx; run `pnpm install` in the Whirl repository (tsx is a dev dependency there).\n');
  process.exit(1);
}
const { register } = await import(api);
register();
await import(pathToFileURL(path.join(here, '..', 'src', 'main.ts')).href);
