export { describeRuntimeConformance, NOT_A_DICTIONARY, SENTINEL, type ConformanceFixtures, type ConformanceOptions } from './suite.js';
export { dockerSkeletonFixtures, nodejsFixtures, pythonFixtures } from './fixtures.js';
export {
  dockerAvailable,
  dockerProxy,
  processProxy,
  request,
  type HttpResult,
  type LogLine,
  type LogStream,
  type RunningProxy,
  type StartProxy,
} from './harness.js';
