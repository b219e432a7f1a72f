export { LocalMessageBus, type BusLogger, type LocalMessageBusOptions } from './local.js';
// The conformance suite imports vitest, so it lives behind `@whirl/messaging/contract`.
