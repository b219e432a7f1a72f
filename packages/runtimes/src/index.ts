export * from './manifest.js';
export {
  buildTestBlackboxImage,
  dockerSkeletonProxyPath,
  ensureRuntimeImages,
  nodeRootfsFiles,
  nodejsProxyPath,
  PROXY_HASH_LABEL,
  localPythonCommand,
  PYTHON_VERSION,
  pythonProxyPath,
  RUNTIME_LABEL,
  runtimesPackageRoot,
  TEST_BLACKBOX_IMAGE,
  type EnsureRuntimeImagesOptions,
  type Rootfs,
} from './images.js';
