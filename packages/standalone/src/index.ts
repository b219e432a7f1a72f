export { startStandalone, type Standalone } from './server.js';
export { loadConfig, StandaloneConfigSchema, type StandaloneConfig } from './config.js';
