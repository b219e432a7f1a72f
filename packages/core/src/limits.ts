/**
 * Every bound the platform enforces, named once. Defaults and ranges are OpenWhisk's as deployed
 * (ansible/standalone), so an OpenWhisk user meets the same limits here.
 */
export const Limits = {
  timeoutMs: { min: 100, max: 300_000, default: 60_000 },
  /** `step`: the granularity memory recommendations are rounded up to. */
  memoryMB: { min: 128, max: 512, default: 256, step: 32 },
  logsMB: { min: 0, max: 10, default: 10 },
  concurrency: { min: 1, max: 1, default: 1 },
  /** Bytes of `exec` (code) in an action PUT. */
  codeBytes: 48 * 1024 * 1024,
  /** Bytes a zip or tar.gz action may unpack to (it lands on the Docker host's disk). */
  archiveExpandedBytes: 512 * 1024 * 1024,
  /** Bytes of `parameters` or `annotations` of one entity. */
  parameterBytes: 1024 * 1024,
  /** Bytes of an invoke or fire request body (compared against Content-Length). */
  payloadBytes: 1024 * 1024,
  /** Bytes of an action result before it is truncated into an application error. */
  resultBytes: 1024 * 1024,
  /** Longest blocking wait a caller may ask for, and the default. */
  blockingWaitMs: { min: 1, max: 60_000, default: 60_000 },
  list: { default: 30, max: 200 },
  nameLength: 256,
  sequenceLength: 50,
  invocationsPerMinute: 60,
  concurrentInvocations: 30,
  firesPerMinute: 60,
} as const;

export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

export const defaultActionLimits = (): ActionLimits => ({
  timeout: Limits.timeoutMs.default,
  memory: Limits.memoryMB.default,
  logs: Limits.logsMB.default,
  concurrency: Limits.concurrency.default,
});

/** Per-namespace limits as `GET /namespaces/{ns}/limits` shows them (system defaults filled in). */
export interface UserLimits {
  invocationsPerMinute: number;
  concurrentInvocations: number;
  firesPerMinute: number;
  maxActionMemory: number;
  minActionMemory: number;
  maxActionLogs: number;
  minActionLogs: number;
  maxActionTimeout: number;
  minActionTimeout: number;
  maxActionConcurrency: number;
  minActionConcurrency: number;
  maxParameterSize: string;
  maxActionInstances: number;
  allowedKinds?: string[];
  /** False: successful blocking activations are not stored (failures always are). */
  storeActivations?: boolean;
  /** Default retry policy of non-blocking invokes whose action has no `retry` annotation. */
  asyncRetry?: { attempts: number; backoffMs: number; onApplicationError?: boolean };
  /** Days activation records are kept; 0 keeps them forever. Filled in from the system default. */
  retention?: number;
  /** Caps on the logs stored with each activation, over the action's own `limits.logs`. */
  maxLogBytes?: number;
  maxLogLines?: number;
}

export function effectiveUserLimits(overrides: Partial<UserLimits> = {}, system: { maxConcurrency?: number } = {}): UserLimits {
  return {
    invocationsPerMinute: Limits.invocationsPerMinute,
    concurrentInvocations: Limits.concurrentInvocations,
    firesPerMinute: Limits.firesPerMinute,
    maxActionMemory: Limits.memoryMB.max,
    minActionMemory: Limits.memoryMB.min,
    maxActionLogs: Limits.logsMB.max,
    minActionLogs: Limits.logsMB.min,
    maxActionTimeout: Limits.timeoutMs.max,
    minActionTimeout: Limits.timeoutMs.min,
    maxActionConcurrency: system.maxConcurrency ?? Limits.concurrency.max,
    minActionConcurrency: Limits.concurrency.min,
    maxParameterSize: '1 MB',
    maxActionInstances: overrides.concurrentInvocations ?? Limits.concurrentInvocations,
    ...overrides,
  };
}
