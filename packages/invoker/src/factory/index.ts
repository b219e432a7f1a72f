export { DockerContainerFactory, type DockerContainerFactoryOptions } from './docker.js';
export { ProcessContainerFactory, defaultProcessImages, type ProcessContainerFactoryOptions } from './process.js';
export {
  containerAgent,
  postJson,
  postJsonWithRetry,
  proxyAgent,
  ProxyHttpError,
  type PostJsonOptions,
  type ProxyHttpErrorKind,
  type ProxyResponse,
} from './http.js';
export { LogHub, nowStamp } from './logs.js';
export { readActivationLogFile } from './log-files.js';
export { makeContainerDir, MAX_SOCKET_PATH, WHIRL_MOUNT } from './channel.js';
export { ACTION_NETWORK, ACTION_BRIDGE, firewallRule, prepareActionNetwork, type IsolationOutcome } from './isolation.js';
