/** The distributed invoker's configuration: environment variables, parsed once, every problem at once. */
import { z } from 'zod';
import { configFromEnv, envBool } from '@whirl/core';

export const InvokerConfigSchema = z.object({
  id: z.coerce.number().int().min(0).describe('Instance number; the invoker consumes topic invoker<id>. WHIRL_INVOKER_ID.'),
  kafkaBrokers: z.string().min(1).describe('Comma-separated host:port list. WHIRL_KAFKA_BROKERS.'),
  kafkaPrefix: z.string().default('').describe('Topic and group name prefix. WHIRL_KAFKA_PREFIX.'),
  couchdbUrl: z.string().url().describe('CouchDB URL with credentials. WHIRL_COUCHDB_URL.'),
  dbPrefix: z.string().default('whirl_').describe('Database name prefix. WHIRL_DB_PREFIX.'),
  apiHost: z.string().default('https://127.0.0.1').describe('URL actions use to call back (__OW_API_HOST). WHIRL_API_HOST.'),
  containers: z.enum(['docker', 'process']).default('docker').describe('Container factory. WHIRL_CONTAINERS.'),
  dockerNetwork: z
    .string()
    .default('whirl-actions')
    .describe('Docker network for action containers; the default one is created isolated (docs/isolation.md). WHIRL_DOCKER_NETWORK.'),
  dockerReach: z
    .enum(['published', 'network'])
    .default('published')
    .describe('Reach containers on ports published on 127.0.0.1 (invoker on the host) or by their address on the network (invoker in a container). WHIRL_DOCKER_REACH.'),
  userMemoryMB: z.coerce.number().int().min(128).default(2048).describe('Memory budget of the container pool. WHIRL_USER_MEMORY_MB.'),
  pauseGraceMs: z.coerce.number().int().min(0).default(10_000).describe('WHIRL_PAUSE_GRACE_MS.'),
  idleTimeoutMs: z.coerce.number().int().min(1000).default(600_000).describe('WHIRL_IDLE_TIMEOUT_MS.'),
  keepAlive: z
    .enum(['fixed', 'hybrid'])
    .default('fixed')
    .describe('Keep-alive policy: fixed (idle timeout) or hybrid (per-action idle-time histogram, prewarms before the next likely call; docs/keepalive.md). WHIRL_KEEPALIVE.'),
  keepAliveBinMs: z.coerce.number().int().min(1).default(60_000).describe("Width of the hybrid policy's 240 histogram bins. WHIRL_KEEPALIVE_BIN_MS."),
  prewarm: envBool.default(true).describe('WHIRL_PREWARM.'),
  pullImages: envBool.default(false).describe('Pull blackbox images missing locally. WHIRL_PULL_IMAGES.'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('WHIRL_LOG_LEVEL.'),
  metricsPort: z.coerce.number().int().min(0).max(65535).default(9091).describe('Port of GET /metrics (Prometheus). WHIRL_METRICS_PORT.'),
  metricsHost: z.string().default('127.0.0.1').describe('Address GET /metrics listens on (0.0.0.0 for a scraper on another host or container). WHIRL_METRICS_HOST.'),
  metricsToken: z.string().min(16, 'must be at least 16 characters').optional().describe('Bearer token GET /metrics requires; unset, it is open to whoever reaches the port. WHIRL_METRICS_TOKEN.'),
  advertiseUrl: z
    .string()
    .url()
    .optional()
    .describe("How controllers reach this invoker's server (metrics port) for direct activations, e.g. http://10.0.0.7:9091; unset, its listen address. WHIRL_ADVERTISE_URL."),
});
export type InvokerConfig = z.infer<typeof InvokerConfigSchema>;

const ENV: Record<keyof InvokerConfig, string> = {
  id: 'WHIRL_INVOKER_ID',
  kafkaBrokers: 'WHIRL_KAFKA_BROKERS',
  kafkaPrefix: 'WHIRL_KAFKA_PREFIX',
  couchdbUrl: 'WHIRL_COUCHDB_URL',
  dbPrefix: 'WHIRL_DB_PREFIX',
  apiHost: 'WHIRL_API_HOST',
  containers: 'WHIRL_CONTAINERS',
  dockerNetwork: 'WHIRL_DOCKER_NETWORK',
  dockerReach: 'WHIRL_DOCKER_REACH',
  userMemoryMB: 'WHIRL_USER_MEMORY_MB',
  pauseGraceMs: 'WHIRL_PAUSE_GRACE_MS',
  idleTimeoutMs: 'WHIRL_IDLE_TIMEOUT_MS',
  keepAlive: 'WHIRL_KEEPALIVE',
  keepAliveBinMs: 'WHIRL_KEEPALIVE_BIN_MS',
  prewarm: 'WHIRL_PREWARM',
  pullImages: 'WHIRL_PULL_IMAGES',
  logLevel: 'WHIRL_LOG_LEVEL',
  metricsPort: 'WHIRL_METRICS_PORT',
  metricsHost: 'WHIRL_METRICS_HOST',
  metricsToken: 'WHIRL_METRICS_TOKEN',
  advertiseUrl: 'WHIRL_ADVERTISE_URL',
};

export function loadInvokerConfig(env: Record<string, string | undefined>): Readonly<InvokerConfig> {
  return configFromEnv(InvokerConfigSchema, ENV, env);
}

/** Maps config keys back to the variables, so that error messages name what the operator sets. */
export const invokerEnvNames = ENV;
