export { makePackageCommand } from './package.js';
