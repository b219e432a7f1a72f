#!/usr/bin/env node
/** `pnpm start`: runs standalone Whirl until SIGINT/SIGTERM. */
import path from 'node:path';
import { ConfigError } from '@whirl/core';
import { loadConfig } from './config.js';
import { startStandalone } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigError || e instanceof TypeError ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const s = await startStandalone(config);
  let stopping = false;
  const forceExit = (): void => {
    void s.removeContainers().finally(() => process.exit(1));
  };
  const shutdown = (sig: string): void => {
    // Ctrl-C reaches the whole process group (pnpm and node): one stop, however many signals.
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${sig}: stopping (removing containers)...\n`);
    // A stop stuck on something (a hung Docker call) still ends, and still without containers.
    setTimeout(forceExit, 30_000).unref();
    s.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`error while stopping: ${String(err)}\n`);
        forceExit();
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Only now is the ready message true: a Ctrl-C typed the moment it appears must find the handlers above
  // in place, not the default action (killed by SIGINT, exit 130, containers left behind).
  process.stdout.write(`APIHOST=${s.apiHost} AUTH=${s.auth} NAMESPACE=${s.namespace}\n`);
  process.stderr.write(
    `Whirl standalone is ready (containers: ${s.factory}). Point the whirl CLI (or wsk) at it with:\n` +
      `  export WSK_CONFIG_FILE=${path.resolve(config.dataDir, 'wskprops')}\n` +
      `  pnpm whirl action list\n` +
      `and the admin commands (whirl admin user|limits) with:\n` +
      `  export WHIRL_ADMIN_CONFIG_FILE=${path.resolve(config.dataDir, 'adminprops')}\n` +
      `and the web console:\n` +
      `  open ${s.apiHost}/console in a browser and paste the AUTH key above\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`whirl standalone failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
