export { makeApiCommand } from './api.js';
