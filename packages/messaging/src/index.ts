export type { BusLogger } from './logger.js';
export { LocalMessageBus, type LocalMessageBusOptions } from './local.js';
export { KafkaMessageBus, type KafkaMessageBusOptions, type KafkaBusLogger, type ConsumerLag } from './kafka.js';
// The conformance suite imports vitest, so it lives behind `@whirl/messaging/contract`.
export {
  KafkaSourceError,
  ensureKafkaTopic,
  probeKafkaTopic,
  produceKafkaMessage,
  startKafkaTopicSource,
  type BatchControl,
  type KafkaTopicSource,
  type KafkaTopicSourceOptions,
  type SourceMessage,
} from './kafka-source.js';
