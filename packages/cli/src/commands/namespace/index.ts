export { makeNamespaceCommand } from './namespace.js';
