export { describeEntityStoreContract, type StoreHarness } from './entity-store.js';
export { describeActivationStoreContract } from './activation-store.js';
export { describeSubjectStoreContract } from './subject-store.js';
export * as fixtures from './fixtures.js';
export { describeScheduleStoreContract } from './schedule-store.js';
export { describeStateStoreContract } from './state-store.js';
