export { makeRuleCommand } from './rule.js';
