/**
 * Dependencies of every command, built lazily: `property set` must work with no config at all, and
 * `completion` must not read ~/.wskprops. The global flags are only known once commander has parsed them.
 */
import os from 'node:os';
import { WhiskClient } from './api/client.js';
import { resolveConfig, normalizeApiHost, type Config, type GlobalFlags } from './config.js';
import { CliError } from './exit.js';
import type { IOStreams } from './iostreams.js';

export const CLI_VERSION = '0.1.0';

export interface Factory {
  io: IOStreams;
  env: NodeJS.ProcessEnv;
  cliVersion: string;
  /** Filled in by the root command's preAction hook. */
  setGlobals(g: GlobalFlags): void;
  config(): Config;
  client(): WhiskClient;
}

export function createFactory(io: IOStreams, env: NodeJS.ProcessEnv): Factory {
  let globals: GlobalFlags = {};
  let config: Config | undefined;
  let client: WhiskClient | undefined;
  const f: Factory = {
    io,
    env,
    cliVersion: CLI_VERSION,
    setGlobals(g) {
      globals = g;
      config = undefined;
      client = undefined;
    },
    config() {
      config ??= resolveConfig(globals, env);
      return config;
    },
    client() {
      if (client) return client;
      const c = f.config();
      if (c.apihost.value === undefined) {
        throw new CliError(
          'The API host is not set.',
          1,
          "run 'whirl property set --apihost http://127.0.0.1:3233', pass --apihost, or set WHIRL_APIHOST",
        );
      }
      client = new WhiskClient({
        apihost: normalizeApiHost(c.apihost.value),
        auth: c.auth.value,
        namespace: c.namespace.value,
        apiversion: c.apiversion.value,
        insecure: c.insecure,
        verbose: c.verbose,
        userAgent: `OpenWhisk-CLI/1.0 (whirl ${CLI_VERSION}) ${os.platform()} ${os.arch()}`,
        log: (line) => io.err.write(`${line}\n`),
      });
      return client;
    },
  };
  return f;
}
