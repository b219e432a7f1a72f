/** The controller's configuration schema (embedded in standalone's, used as is by the distributed main). */
import { z } from 'zod';

export const ControllerConfigSchema = z.object({
  controllerId: z.string().default('0').describe('Instance id; acks arrive on topic completed<id>.'),
  controllers: z.number().int().min(1).default(1).describe('How many controllers share the load; each enforces its share of the throttles.'),
  apiHost: z.string().default('http://127.0.0.1:3233').describe('URL actions use to call back (__OW_API_HOST).'),
  blockingWaitMs: z.number().int().min(1).max(60_000).default(60_000).describe('Longest blocking wait before 202.'),
  build: z.string().default('2026-11-27').describe('Build date shown by GET /api/v1.'),
  buildNo: z.string().default('whirl-0.1.0').describe('Build number shown by GET /api/v1.'),
  maxQueueMs: z
    .number()
    .int()
    .min(1_000)
    .default(5 * 60_000)
    .describe('How long an activation may wait for an invoker before it is recorded as expired instead of run late.'),
  adminKey: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .describe('Bearer credential of the admin API (/admin/v1); without one the admin API refuses every call.'),
  retentionDays: z.number().min(0).max(36_500).default(7).describe('Days activation records are kept unless a namespace sets its own retention; 0 keeps them forever.'),
  retentionSweepMs: z.number().int().min(100).default(60_000).describe('How often the retention sweeper runs.'),
  limits: z
    .object({
      invocationsPerMinute: z.number().int().min(0).default(60),
      concurrentInvocations: z.number().int().min(0).default(30),
      firesPerMinute: z.number().int().min(0).default(60),
      /** Highest `limits.concurrency` an action may ask for (intra-container concurrency). */
      maxActionConcurrency: z.number().int().min(1).default(1),
    })
    .prefault({})
    .describe('System-wide defaults; per-namespace overrides in the subject store win.'),
});
export type ControllerConfig = z.infer<typeof ControllerConfigSchema>;

/** The throttle and retention keys a process reads from the environment (core's throttleFields and retentionFields). */
export interface ControllerEnvDefaults {
  invocationsPerMinute: number;
  concurrentInvocations: number;
  firesPerMinute: number;
  maxActionConcurrency: number;
  retentionDays: number;
  retentionSweepMs: number;
}

/** What the distributed controller and standalone both hand the controller from their environment. */
export function controllerDefaultsFrom(c: ControllerEnvDefaults): Pick<z.input<typeof ControllerConfigSchema>, 'limits' | 'retentionDays' | 'retentionSweepMs'> {
  const { invocationsPerMinute, concurrentInvocations, firesPerMinute, maxActionConcurrency } = c;
  return { retentionDays: c.retentionDays, retentionSweepMs: c.retentionSweepMs, limits: { invocationsPerMinute, concurrentInvocations, firesPerMinute, maxActionConcurrency } };
}
