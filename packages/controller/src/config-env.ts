/** The distributed controller's process configuration (environment variables). */
import { z } from 'zod';
import { configFromEnv } from '@whirl/core';

export const ControllerProcessConfigSchema = z.object({
  controllerId: z.string().regex(/^\d+$/, 'must be a whole number').default('0').describe('WHIRL_CONTROLLER_ID.'),
  controllers: z.coerce.number().int().min(1).default(1).describe('How many controllers share the invokers. WHIRL_CONTROLLERS.'),
  apiHost: z.string().default('https://127.0.0.1').describe('The public URL of the API (catalog hosturl, feeds). WHIRL_API_HOST.'),
  advertiseUrl: z
    .string()
    .url()
    .optional()
    .describe('How invokers reach this controller for direct result acks, e.g. http://controller0:3233. WHIRL_ADVERTISE_URL.'),
  port: z.coerce.number().int().min(0).max(65535).default(3233).describe('WHIRL_PORT.'),
  host: z.string().default('127.0.0.1').describe('WHIRL_HOST.'),
  kafkaBrokers: z.string().min(1).describe('Comma-separated host:port list. WHIRL_KAFKA_BROKERS.'),
  kafkaPrefix: z.string().default('').describe('WHIRL_KAFKA_PREFIX.'),
  couchdbUrl: z.string().url().describe('WHIRL_COUCHDB_URL.'),
  dbPrefix: z.string().default('whirl_').describe('WHIRL_DB_PREFIX.'),
  invocationsPerMinute: z.coerce.number().int().min(0).default(60).describe('WHIRL_INVOCATIONS_PER_MINUTE.'),
  concurrentInvocations: z.coerce.number().int().min(0).default(30).describe('WHIRL_CONCURRENT_INVOCATIONS.'),
  firesPerMinute: z.coerce.number().int().min(0).default(60).describe('WHIRL_FIRES_PER_MINUTE.'),
  maxActionConcurrency: z.coerce.number().int().min(1).default(100).describe('WHIRL_MAX_ACTION_CONCURRENCY.'),
  adminKey: z.string().min(32, 'must be at least 32 characters').optional().describe('Bearer credential of the admin API. WHIRL_ADMIN_KEY.'),
  retentionDays: z.coerce.number().min(0).max(36_500).default(7).describe('Default activation retention in days, 0 = forever. WHIRL_ACTIVATION_RETENTION_DAYS.'),
  retentionSweepMs: z.coerce.number().int().min(100).default(60_000).describe('Retention sweep interval. WHIRL_RETENTION_SWEEP_MS.'),
  ackTimeoutMs: z.coerce
    .number()
    .int()
    .min(1000)
    .optional()
    .describe("How long to wait for an invoker's completion ack before forcing it; default max(timeout, 60 s) × 2 + 60 s. WHIRL_ACK_TIMEOUT_MS."),
  maxQueueMs: z.coerce.number().int().min(1000).default(300_000).describe('WHIRL_MAX_QUEUE_MS.'),
  feedLeaseMs: z.coerce
    .number()
    .int()
    .min(1000)
    .default(10_000)
    .describe('How long the event-source lease of a dead controller blocks the others before one takes over its feeds. WHIRL_FEED_LEASE_MS.'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('WHIRL_LOG_LEVEL.'),
  metricsToken: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .describe('Bearer token GET /metrics requires; unset, /metrics answers internal callers only (never through nginx). WHIRL_METRICS_TOKEN.'),
});
export type ControllerProcessConfig = z.infer<typeof ControllerProcessConfigSchema>;

const ENV: Record<keyof ControllerProcessConfig, string> = {
  controllerId: 'WHIRL_CONTROLLER_ID',
  controllers: 'WHIRL_CONTROLLERS',
  apiHost: 'WHIRL_API_HOST',
  advertiseUrl: 'WHIRL_ADVERTISE_URL',
  port: 'WHIRL_PORT',
  host: 'WHIRL_HOST',
  kafkaBrokers: 'WHIRL_KAFKA_BROKERS',
  kafkaPrefix: 'WHIRL_KAFKA_PREFIX',
  couchdbUrl: 'WHIRL_COUCHDB_URL',
  dbPrefix: 'WHIRL_DB_PREFIX',
  invocationsPerMinute: 'WHIRL_INVOCATIONS_PER_MINUTE',
  concurrentInvocations: 'WHIRL_CONCURRENT_INVOCATIONS',
  firesPerMinute: 'WHIRL_FIRES_PER_MINUTE',
  maxActionConcurrency: 'WHIRL_MAX_ACTION_CONCURRENCY',
  adminKey: 'WHIRL_ADMIN_KEY',
  retentionDays: 'WHIRL_ACTIVATION_RETENTION_DAYS',
  retentionSweepMs: 'WHIRL_RETENTION_SWEEP_MS',
  ackTimeoutMs: 'WHIRL_ACK_TIMEOUT_MS',
  maxQueueMs: 'WHIRL_MAX_QUEUE_MS',
  feedLeaseMs: 'WHIRL_FEED_LEASE_MS',
  logLevel: 'WHIRL_LOG_LEVEL',
  metricsToken: 'WHIRL_METRICS_TOKEN',
};

export function loadControllerProcessConfig(env: Record<string, string | undefined>): Readonly<ControllerProcessConfig> {
  return configFromEnv(ControllerProcessConfigSchema, ENV, env);
}
