export { makeTriggerCommand } from './trigger.js';
