/** The distributed invoker's configuration: environment variables, parsed once, every problem at once. */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { clusterFields, configFields, describedAs, envConfig, envField, poolFields, type EnvConfig } from '@whirl/core';

const fields = {
  id: envField('WHIRL_INVOKER_ID', z.coerce.number().int().min(0), 'Instance number; the invoker consumes topic invoker<id>.'),
  ...clusterFields,
  apiHost: configFields.apiHost,
  containers: envField('WHIRL_CONTAINERS', z.enum(['docker', 'process']).default('docker'), 'Container factory.'),
  dockerNetwork: envField(
    'WHIRL_DOCKER_NETWORK',
    z.string().default('whirl-actions'),
    'Docker network for action containers; the default one is created isolated (docs/isolation.md).',
  ),
  dockerReach: envField(
    'WHIRL_DOCKER_REACH',
    z.enum(['published', 'network']).default('published'),
    'Reach containers on ports published on 127.0.0.1 (invoker on the host) or by their address on the network (invoker in a container).',
  ),
  stateDir: envField(
    'WHIRL_STATE_DIR',
    z.string().min(1).default(path.join(os.tmpdir(), `whirl-invoker-${process.getuid?.() ?? 0}`)),
    "Directory of the containers' sockets and log files (Whirl's runtimes, with WHIRL_DOCKER_REACH=published).",
  ),
  ...poolFields,
  pullImages: configFields.pullImages,
  logLevel: configFields.logLevel,
  metricsPort: envField('WHIRL_METRICS_PORT', z.coerce.number().int().min(0).max(65535).default(9091), 'Port of GET /metrics (Prometheus).'),
  metricsHost: envField(
    'WHIRL_METRICS_HOST',
    z.string().default('127.0.0.1'),
    'Address GET /metrics listens on (0.0.0.0 for a scraper on another host or container).',
  ),
  metricsToken: describedAs(configFields.metricsToken, 'Bearer token GET /metrics requires; unset, it is open to whoever reaches the port.'),
  advertiseUrl: envField(
    'WHIRL_ADVERTISE_URL',
    z.string().url().optional(),
    "How controllers reach this invoker's server (metrics port) for direct activations, e.g. http://10.0.0.7:9091; unset, its listen address.",
  ),
};

const invokerConfig: EnvConfig<typeof fields> = envConfig(fields);
export const InvokerConfigSchema = invokerConfig.schema;
export type InvokerConfig = z.infer<typeof InvokerConfigSchema>;

export function loadInvokerConfig(env: Record<string, string | undefined>): Readonly<InvokerConfig> {
  return invokerConfig.load(env);
}

type PoolKey = 'userMemoryMB' | 'pauseGraceMs' | 'idleTimeoutMs' | 'keepAlive' | 'keepAliveBinMs' | 'keepAliveStateFile' | 'prewarm' | 'pullImages';

/** The pool's options as the invoker and standalone both read them (core's poolFields, and pullImages). */
export function poolOptionsFrom(c: Pick<InvokerConfig, PoolKey>): Pick<InvokerConfig, PoolKey> {
  const { userMemoryMB, pauseGraceMs, idleTimeoutMs, keepAlive, keepAliveBinMs, keepAliveStateFile, prewarm, pullImages } = c;
  return { userMemoryMB, pauseGraceMs, idleTimeoutMs, keepAlive, keepAliveBinMs, ...(keepAliveStateFile !== undefined ? { keepAliveStateFile } : {}), prewarm, pullImages };
}

/** Maps config keys back to the variables, so that error messages name what the operator sets. */
export const invokerEnvNames = invokerConfig.envNames;
