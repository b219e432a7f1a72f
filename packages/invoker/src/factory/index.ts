export { DockerContainerFactory, type DockerContainerFactoryOptions } from './docker.js';
export { ProcessContainerFactory, defaultProcessImages, type ProcessContainerFactoryOptions } from './process.js';
export {
  postJson,
  postJsonWithRetry,
  proxyAgent,
  ProxyHttpError,
  type PostJsonOptions,
  type ProxyHttpErrorKind,
  type ProxyResponse,
} from './http.js';
export { LogHub, nowStamp } from './logs.js';
export { ACTION_NETWORK, ACTION_BRIDGE, firewallRule, prepareActionNetwork, type IsolationOutcome } from './isolation.js';
