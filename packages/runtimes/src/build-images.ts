/**
 * `pnpm build:images [--force]`: builds the runtime images this machine lacks, offline.
 */
import Dockerode from 'dockerode';
import { ensureRuntimeImages } from './images.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--force');
  if (unknown.length > 0) {
    process.stderr.write(`usage: build-images [--force]\nunknown argument: ${unknown.join(' ')}\n`);
    process.exitCode = 2;
    return;
  }
  const docker = new Dockerode();
  const built = await ensureRuntimeImages({
    docker,
    force: args.includes('--force'),
    onProgress: (msg) => process.stdout.write(`${msg}\n`),
  });
  process.stdout.write(built.length > 0 ? `built: ${built.join(', ')}\n` : 'all runtime images present\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`build-images: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
