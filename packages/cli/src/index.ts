export { run, makeRootCommand, reportError } from './run.js';
export { createFactory, CLI_VERSION, type Factory } from './factory.js';
export { createIO, systemIO, testIO, type IOStreams, type TestIO } from './iostreams.js';
export { WhiskClient, ApiError } from './api/client.js';
export { ExitCode, exitCodeForStatus, EXIT_CODE_HELP } from './exit.js';
