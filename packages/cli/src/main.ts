#!/usr/bin/env node
/** Entry point of the `whirl` binary: everything else lives in run.ts so tests can call it in-process. */
import { createFactory } from './factory.js';
import { systemIO } from './iostreams.js';
import { run } from './run.js';

const io = systemIO();

process.on('SIGINT', () => {
  // Leave the terminal tidy if a spinner was drawing when Ctrl-C came.
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
  process.exit(130);
});

run(process.argv.slice(2), createFactory(io, process.env)).then(
  (code) => {
    // Exit only once stdout is flushed: a pipe reader must get every line.
    process.stdout.write('', () => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
