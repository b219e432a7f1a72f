/**
 * Standalone's configuration: flags win over environment variables, which win over defaults. Parsed
 * once at start; every problem is reported at once.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { configFields, describedAs, envConfig, envField, poolFields, retentionFields, throttleFields, withFlag, type EnvConfig } from '@whirl/core';

const fields = {
  port: withFlag(configFields.port, 'port'),
  host: withFlag(configFields.host, 'host'),
  dataDir: withFlag(envField('WHIRL_DATA_DIR', z.string().default('./.whirl'), 'Where the SQLite database and wskprops live.'), 'data-dir'),
  containers: withFlag(
    envField(
      'WHIRL_CONTAINERS',
      z.enum(['auto', 'docker', 'process']).default('auto'),
      'Container factory: docker, process (no isolation, development only), or auto (docker when a daemon answers).',
    ),
    'containers',
  ),
  ...poolFields,
  ...throttleFields,
  pullImages: configFields.pullImages,
  maxActionConcurrency: configFields.maxActionConcurrency,
  adminKey: describedAs(configFields.adminKey, 'Bearer credential of the admin API; when unset one is generated into <data-dir>/admin-key.'),
  ...retentionFields,
  logLevel: configFields.logLevel,
  metricsToken: describedAs(configFields.metricsToken, 'Bearer token GET /metrics requires; unset, /metrics answers only local (loopback) callers.'),
};

const standaloneConfig: EnvConfig<typeof fields> = envConfig(fields);
export const StandaloneConfigSchema = standaloneConfig.schema;
export type StandaloneConfig = z.infer<typeof StandaloneConfigSchema>;

export function loadConfig(argv: string[], env: Record<string, string | undefined>): Readonly<StandaloneConfig> {
  const { values } = parseArgs({
    // `pnpm start -- --port 4000` (the npm habit) hands the `--` through: it ends nothing here.
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: Object.fromEntries(Object.keys(standaloneConfig.flags).map((flag) => [flag, { type: 'string' as const }])),
    strict: true,
  });
  return standaloneConfig.load(env, Object.fromEntries(Object.entries(standaloneConfig.flags).map(([flag, key]) => [key, values[flag]])));
}
