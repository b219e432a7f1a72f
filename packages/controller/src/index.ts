export { buildApp, type AppDeps } from './app.js';
export { ControllerConfigSchema, type ControllerConfig } from './config.js';
export { ActivationWaiter } from './waiter.js';
export { LeanBalancer, type LoadBalancer } from './loadbalancer/lean.js';
export type { KindResolver } from './action-doc.js';
export type { Ctx } from './context.js';
