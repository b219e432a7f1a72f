export { Invoker, type InvokerOptions, type InvokerState, type RuntimeImages, type InvokerLog } from './invoker.js';
export { ContainerPool, type PoolPolicySnapshot, type PoolStats, type StemCell } from './pool.js';
export {
  FixedKeepAlive,
  HybridKeepAlive,
  ReactiveStemCells,
  keepAlivePlan,
  makeKeepAlivePolicy,
  policyKey,
  type HybridOptions,
  type KeepAliveDecision,
  type KeepAlivePolicy,
  type KeepAlivePolicyName,
  type KeepAliveState,
  type PolicySnapshot,
  type ReactiveConfig,
} from './keepalive.js';
export { DockerContainerFactory, ProcessContainerFactory } from './factory/index.js';
export { InvokerMetrics, type ColdStartReason } from './metrics.js';
export { manifestRuntimeImages } from './runtime-images.js';
export { poolOptionsFrom } from './config.js';
export { locateCgroup, parseMountinfo, parseProcCgroup, startCgroupMeter, startProcMeter } from './factory/cgroup.js';
export { startReaper, type Reaper, type ReaperState } from './reaper-client.js';
