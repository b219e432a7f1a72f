export { Invoker, type InvokerOptions, type InvokerState, type RuntimeImages, type InvokerLog } from './invoker.js';
export { ContainerPool, type PoolStats, type StemCell } from './pool.js';
export { DockerContainerFactory, ProcessContainerFactory } from './factory/index.js';
export { startReaper, type Reaper, type ReaperState } from './reaper-client.js';
