/**
 * The configuration keys more than one process reads (controller, invoker, standalone), each defined
 * once: its variable, validation, default and description. A process builds its schema with
 * `envConfig({ ...clusterFields, port: configFields.port, ... })`; what only one process reads stays in
 * that process's config file. Everything here comes from the environment, so numbers are coerced.
 */
import { z } from 'zod';
import { envBool, envField } from './config.js';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const configFields = {
  port: envField('WHIRL_PORT', z.coerce.number().int().min(0).max(65535).default(3233), 'HTTP port (0 picks a free one).'),
  host: envField('WHIRL_HOST', z.string().default('127.0.0.1'), 'Address to listen on.'),
  apiHost: envField(
    'WHIRL_API_HOST',
    z.string().default('https://127.0.0.1'),
    'The public URL of the API: actions call back to it (__OW_API_HOST), the catalog and feeds name it.',
  ),
  pullImages: envField('WHIRL_PULL_IMAGES', envBool.default(false), 'Pull blackbox images missing locally from their registry.'),
  maxActionConcurrency: envField(
    'WHIRL_MAX_ACTION_CONCURRENCY',
    z.coerce.number().int().min(1).default(100),
    'Highest limits.concurrency an action may set.',
  ),
  adminKey: envField('WHIRL_ADMIN_KEY', z.string().min(32, 'must be at least 32 characters').optional(), 'Bearer credential of the admin API.'),
  logLevel: envField('WHIRL_LOG_LEVEL', z.enum(logLevels).default('info'), 'Least severe level that is logged.'),
  // Who may scrape without the token differs by process: each says so in its own description.
  metricsToken: envField('WHIRL_METRICS_TOKEN', z.string().min(16, 'must be at least 16 characters').optional(), 'Bearer token GET /metrics requires.'),
};

/** Where the distributed processes find Kafka and CouchDB. */
export const clusterFields = {
  kafkaBrokers: envField('WHIRL_KAFKA_BROKERS', z.string().min(1), 'Comma-separated host:port list.'),
  kafkaPrefix: envField('WHIRL_KAFKA_PREFIX', z.string().default(''), 'Topic and group name prefix.'),
  couchdbUrl: envField('WHIRL_COUCHDB_URL', z.string().url(), 'CouchDB URL with credentials.'),
  dbPrefix: envField('WHIRL_DB_PREFIX', z.string().default('whirl_'), 'Database name prefix.'),
};

/** The container pool's budget and keep-alive policy (whoever runs an invoker). */
export const poolFields = {
  userMemoryMB: envField('WHIRL_USER_MEMORY_MB', z.coerce.number().int().min(128).default(2048), 'Memory budget of the container pool.'),
  pauseGraceMs: envField('WHIRL_PAUSE_GRACE_MS', z.coerce.number().int().min(0).default(10_000), 'Idle time before a warm container is paused.'),
  idleTimeoutMs: envField('WHIRL_IDLE_TIMEOUT_MS', z.coerce.number().int().min(1000).default(600_000), 'Idle time before a warm container is removed.'),
  keepAlive: envField(
    'WHIRL_KEEPALIVE',
    z.enum(['fixed', 'hybrid']).default('hybrid'),
    'Keep-alive policy: hybrid (per-action idle-time histogram, unloads and loads again before the next likely call; docs/keepalive.md) or fixed (keep every idle container for the idle timeout).',
  ),
  keepAliveBinMs: envField('WHIRL_KEEPALIVE_BIN_MS', z.coerce.number().int().min(1).default(60_000), "Width of the hybrid policy's 240 histogram bins."),
  keepAliveStateFile: envField(
    'WHIRL_KEEPALIVE_STATE_FILE',
    z.string().min(1).optional(),
    "File that keeps the hybrid policy's histograms across restarts (standalone: <data-dir>/keepalive.json; invoker: none unless set).",
  ),
  prewarm: envField('WHIRL_PREWARM', envBool.default(true), 'Start stem cells from the runtime manifest.'),
};

/** Per-namespace throttle defaults (OpenWhisk deploys 60 / 30 / 60); the subject store's limits win. */
export const throttleFields = {
  invocationsPerMinute: envField('WHIRL_INVOCATIONS_PER_MINUTE', z.coerce.number().int().min(0).default(60), 'Default per-namespace invocations per minute.'),
  concurrentInvocations: envField('WHIRL_CONCURRENT_INVOCATIONS', z.coerce.number().int().min(0).default(30), 'Default per-namespace concurrent invocations.'),
  firesPerMinute: envField('WHIRL_FIRES_PER_MINUTE', z.coerce.number().int().min(0).default(60), 'Default per-namespace trigger fires per minute.'),
};

/** How long activation records are kept and how often the sweeper looks (docs/retention.md). */
export const retentionFields = {
  retentionDays: envField(
    'WHIRL_ACTIVATION_RETENTION_DAYS',
    z.coerce.number().min(0).max(36_500).default(7),
    'Default activation retention in days, 0 = forever.',
  ),
  retentionSweepMs: envField('WHIRL_RETENTION_SWEEP_MS', z.coerce.number().int().min(100).default(60_000), 'Retention sweep interval.'),
};
