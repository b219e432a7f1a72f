export * from './manifest.js';
export {
  ensureRuntimeImages,
  nodeRootfsFiles,
  nodejsProxyPath,
  proxyHash,
  PROXY_HASH_LABEL,
  RUNTIME_LABEL,
  type EnsureRuntimeImagesOptions,
} from './images.js';
