/** The distributed controller's process configuration (environment variables). */
import { z } from 'zod';
import { clusterFields, configFields, describedAs, envConfig, envField, retentionFields, throttleFields, type EnvConfig } from '@whirl/core';

const fields = {
  controllerId: envField('WHIRL_CONTROLLER_ID', z.string().regex(/^\d+$/, 'must be a whole number').default('0'), 'Instance id; acks arrive on topic completed<id>.'),
  controllers: envField('WHIRL_CONTROLLERS', z.coerce.number().int().min(1).default(1), 'How many controllers share the invokers.'),
  apiHost: configFields.apiHost,
  advertiseUrl: envField(
    'WHIRL_ADVERTISE_URL',
    z.string().url().optional(),
    'How invokers reach this controller for direct result acks, e.g. http://controller0:3233.',
  ),
  port: configFields.port,
  host: configFields.host,
  ...clusterFields,
  ...throttleFields,
  maxActionConcurrency: configFields.maxActionConcurrency,
  adminKey: configFields.adminKey,
  ...retentionFields,
  ackTimeoutMs: envField(
    'WHIRL_ACK_TIMEOUT_MS',
    z.coerce.number().int().min(1000).optional(),
    "How long to wait for an invoker's completion ack before forcing it; default max(timeout, 60 s) × 2 + 60 s.",
  ),
  maxQueueMs: envField(
    'WHIRL_MAX_QUEUE_MS',
    z.coerce.number().int().min(1000).default(300_000),
    'How long an activation may wait for an invoker before it is recorded as expired instead of run late.',
  ),
  feedLeaseMs: envField(
    'WHIRL_FEED_LEASE_MS',
    z.coerce.number().int().min(1000).default(10_000),
    'How long the event-source lease of a dead controller blocks the others before one takes over its feeds.',
  ),
  logLevel: configFields.logLevel,
  metricsToken: describedAs(
    configFields.metricsToken,
    'Bearer token GET /metrics requires; unset, /metrics answers internal callers only (never through nginx).',
  ),
};

const controllerProcessConfig: EnvConfig<typeof fields> = envConfig(fields);
export const ControllerProcessConfigSchema = controllerProcessConfig.schema;
export type ControllerProcessConfig = z.infer<typeof ControllerProcessConfigSchema>;

export function loadControllerProcessConfig(env: Record<string, string | undefined>): Readonly<ControllerProcessConfig> {
  return controllerProcessConfig.load(env);
}
