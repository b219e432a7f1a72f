'use strict';
/*
 * Activation logs as files, for Whirl's invoker (runtimes.json `capabilities.logFiles`): given
 * WHIRL_PROXY_LOG_DIR, the proxy writes what an activation prints to `<dir>/<activation id>` instead
 * of stdout/stderr, and the invoker reads that file once the activation has answered. No log stream,
 * no sentinels: the answer itself says the file is complete, because every line is written
 * (synchronously) before it. One file per activation keeps concurrent activations apart by
 * construction, and no action can write into another's file by printing.
 *
 * Format, one record per printed line: `<o|e><epoch ns> <text>\n` (o = stdout, e = stderr); the
 * proxy splits what the action prints at newlines, so `text` never holds one. A record `c<epoch ns> \n`
 * says the proxy stopped writing because the activation printed more than any log limit allows.
 * Shared by the Node.js and skeleton proxies; Node standard library only. The Python proxy writes the
 * same format; the reader is packages/invoker/src/factory/log-files.ts.
 */
const fs = require('node:fs');
const path = require('node:path');

const LOG_DIR = process.env.WHIRL_PROXY_LOG_DIR || undefined;
delete process.env.WHIRL_PROXY_LOG_DIR;
/** Text bytes plus one per line: past this (the largest log limit, 10 MiB) nothing is stored. */
const CAP = 10 * 1024 * 1024 + 1;
const ID = /^[0-9a-f]{32}$/;

// hrtime for sub-millisecond resolution, anchored to the wall clock once (monotonic within the proxy).
const anchorNs = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();

if (LOG_DIR !== undefined) fs.mkdirSync(LOG_DIR, { recursive: true });

class ActivationLog {
  constructor(id) {
    this.file = path.join(LOG_DIR, id);
    this.fd = undefined;
    this.used = 0;
    this.cut = false;
  }

  /** Appends complete lines printed on `stream` ('out' | 'err'). */
  write(stream, lines) {
    if (this.cut || lines.length === 0) return;
    const stamp = (anchorNs + process.hrtime.bigint()).toString();
    const prefix = (stream === 'out' ? 'o' : 'e') + stamp + ' ';
    let text = '';
    for (const l of lines) {
      text += prefix + l + '\n';
      this.used += Buffer.byteLength(l) + 1;
      if (this.used > CAP) {
        text += 'c' + stamp + ' \n';
        this.cut = true;
        break;
      }
    }
    try {
      if (this.fd === undefined) this.fd = fs.openSync(this.file, 'a', 0o644);
      fs.writeSync(this.fd, text);
    } catch (_) {
      // A full disk must not fail the activation; its logs are then incomplete.
    }
  }

  /** Ends this request's writes; the same activation's /run after its /init appends again. */
  close() {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch (_) {
      // Nothing to do.
    }
    this.fd = undefined;
  }
}

/** The log file of activation `id`, or undefined when logs go to stdout/stderr (no log dir, no id). */
function activationLog(id) {
  return LOG_DIR !== undefined && typeof id === 'string' && ID.test(id) ? new ActivationLog(id) : undefined;
}

module.exports = { LOG_FILES: LOG_DIR !== undefined, activationLog };
