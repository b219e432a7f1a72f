/**
 * Standalone's configuration: flags win over environment variables, which win over defaults. Parsed
 * once at start; every problem is reported at once.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { configFromEnv, envBool } from '@whirl/core';

export const StandaloneConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(3233).describe('HTTP port (0 picks a free one). --port, WHIRL_PORT.'),
  host: z.string().default('127.0.0.1').describe('Address to listen on. --host, WHIRL_HOST.'),
  dataDir: z.string().default('./.whirl').describe('Where the SQLite database and wskprops live. --data-dir, WHIRL_DATA_DIR.'),
  containers: z
    .enum(['auto', 'docker', 'process'])
    .default('auto')
    .describe('Container factory: docker, process (no isolation, development only), or auto (docker when a daemon answers). --containers, WHIRL_CONTAINERS.'),
  userMemoryMB: z.coerce.number().int().min(128).default(2048).describe('Memory budget of the container pool. WHIRL_USER_MEMORY_MB.'),
  pauseGraceMs: z.coerce.number().int().min(0).default(10_000).describe('Idle time before a warm container is paused. WHIRL_PAUSE_GRACE_MS.'),
  idleTimeoutMs: z.coerce.number().int().min(1000).default(600_000).describe('Idle time before a warm container is removed. WHIRL_IDLE_TIMEOUT_MS.'),
  keepAlive: z
    .enum(['fixed', 'hybrid'])
    .default('fixed')
    .describe('Keep-alive policy: fixed (idle timeout) or hybrid (per-action idle-time histogram, prewarms before the next likely call; docs/keepalive.md). WHIRL_KEEPALIVE.'),
  keepAliveBinMs: z.coerce.number().int().min(1).default(60_000).describe("Width of the hybrid policy's 240 histogram bins. WHIRL_KEEPALIVE_BIN_MS."),
  prewarm: envBool.default(true).describe('Start stem cells from the runtime manifest. WHIRL_PREWARM.'),
  invocationsPerMinute: z.coerce.number().int().min(0).default(60).describe('Default per-namespace invocations per minute. WHIRL_INVOCATIONS_PER_MINUTE.'),
  concurrentInvocations: z.coerce.number().int().min(0).default(30).describe('Default per-namespace concurrent invocations. WHIRL_CONCURRENT_INVOCATIONS.'),
  firesPerMinute: z.coerce.number().int().min(0).default(60).describe('Default per-namespace trigger fires per minute. WHIRL_FIRES_PER_MINUTE.'),
  pullImages: envBool.default(false).describe('Pull blackbox images missing locally from their registry. WHIRL_PULL_IMAGES.'),
  maxActionConcurrency: z.coerce.number().int().min(1).default(100).describe('Highest limits.concurrency an action may set. WHIRL_MAX_ACTION_CONCURRENCY.'),
  adminKey: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .describe('Bearer credential of the admin API; when unset one is generated into <data-dir>/admin-key. WHIRL_ADMIN_KEY.'),
  retentionDays: z.coerce.number().min(0).max(36_500).default(7).describe('Default activation retention in days, 0 = forever. WHIRL_ACTIVATION_RETENTION_DAYS.'),
  retentionSweepMs: z.coerce.number().int().min(100).default(60_000).describe('Retention sweep interval. WHIRL_RETENTION_SWEEP_MS.'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('WHIRL_LOG_LEVEL.'),
  metricsToken: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('Bearer token GET /metrics requires; unset, /metrics answers only local (loopback) callers. WHIRL_METRICS_TOKEN.'),
});
export type StandaloneConfig = z.infer<typeof StandaloneConfigSchema>;

const ENV: Record<keyof StandaloneConfig, string> = {
  port: 'WHIRL_PORT',
  host: 'WHIRL_HOST',
  dataDir: 'WHIRL_DATA_DIR',
  containers: 'WHIRL_CONTAINERS',
  userMemoryMB: 'WHIRL_USER_MEMORY_MB',
  pauseGraceMs: 'WHIRL_PAUSE_GRACE_MS',
  idleTimeoutMs: 'WHIRL_IDLE_TIMEOUT_MS',
  keepAlive: 'WHIRL_KEEPALIVE',
  keepAliveBinMs: 'WHIRL_KEEPALIVE_BIN_MS',
  prewarm: 'WHIRL_PREWARM',
  invocationsPerMinute: 'WHIRL_INVOCATIONS_PER_MINUTE',
  concurrentInvocations: 'WHIRL_CONCURRENT_INVOCATIONS',
  firesPerMinute: 'WHIRL_FIRES_PER_MINUTE',
  pullImages: 'WHIRL_PULL_IMAGES',
  maxActionConcurrency: 'WHIRL_MAX_ACTION_CONCURRENCY',
  adminKey: 'WHIRL_ADMIN_KEY',
  retentionDays: 'WHIRL_ACTIVATION_RETENTION_DAYS',
  retentionSweepMs: 'WHIRL_RETENTION_SWEEP_MS',
  logLevel: 'WHIRL_LOG_LEVEL',
  metricsToken: 'WHIRL_METRICS_TOKEN',
};

export function loadConfig(argv: string[], env: Record<string, string | undefined>): Readonly<StandaloneConfig> {
  const { values } = parseArgs({
    // `pnpm start -- --port 4000` (the npm habit) hands the `--` through: it ends nothing here.
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      containers: { type: 'string' },
    },
    strict: true,
  });
  return configFromEnv(StandaloneConfigSchema, ENV, env, {
    port: values.port,
    host: values.host,
    dataDir: values['data-dir'],
    containers: values.containers,
  });
}
