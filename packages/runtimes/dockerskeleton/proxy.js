'use strict';
/*
 * Whirl's docker-skeleton proxy: the base image of "native" blackbox actions. It runs a
 * user-supplied executable per activation, the way OpenWhisk's actionproxy.py does: the JSON
 * parameters go in as the last argv argument (and on stdin), the LAST line of stdout is the JSON
 * result, everything before it and all of stderr are logs.
 *
 * Written for the Node.js scratch image (Node standard library only); the image adds /bin/sh and
 * /usr/bin/env so that shell scripts and `#!/usr/bin/env node` scripts run.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
// Images hold the files shared with the Node.js proxy next to this file; in the source tree they are in nodejs/.
const shared = (name) => (fs.existsSync(path.join(__dirname, name)) ? './' + name : '../nodejs/' + name);
const { extractZip } = require(shared('archive.js'));
const { serve } = require(shared('proxy-http.js'));
const { activationLog } = require(shared('log-files.js'));

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
const FAKE_SENTINEL_SUFFIX = ' (printed by the action)';
const ALLOW_CONCURRENT = process.env.__OW_ALLOW_CONCURRENT === 'true';
const NOT_A_DICTIONARY = 'The action did not return a dictionary.';
const MAX_ARG_BYTES = 128 * 1024 - 1;
// How much of stderr a failed run's error carries; all of it is in the logs anyway.
const ERROR_TAIL_LINES = 10;
const ERROR_TAIL_CHARS = 1000;
// The image sets /action like OpenWhisk's skeleton; a proxy run as a local process gets a private
// directory, since several of them share the host.
const OWN_ACTION_DIR = !process.env.WHIRL_ACTION_DIR;
const ACTION_DIR = process.env.WHIRL_ACTION_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'skeleton-'));
const EXEC = path.join(ACTION_DIR, 'exec');

function neutralize(text) {
  return text.split(SENTINEL).join(SENTINEL + FAKE_SENTINEL_SUFFIX);
}

function writeMarkers() {
  process.stdout.write(SENTINEL + '\n');
  process.stderr.write(SENTINEL + '\n');
}

/**
 * Where an activation's output goes: its log file when the invoker asked for files (log-files.js),
 * else stdout/stderr in one write per stream, so concurrent activations do not interleave within a
 * block, sentinels neutralised.
 */
function logSink(log) {
  const toStream = (stream, text) => stream.write(neutralize(text.endsWith('\n') ? text : text + '\n'));
  return {
    out(text) {
      if (log) log.write('out', text.replace(/\n$/, '').split('\n'));
      else toStream(process.stdout, text);
    },
    err(text) {
      if (log) log.write('err', text.replace(/\n$/, '').split('\n'));
      else toStream(process.stderr, text);
    },
  };
}

function proxyError(...parts) {
  process.stderr.write(parts.map(String).join(' ') + '\n');
}

let status = 'ready';
let initialized = false;
let running = 0;

function initCode(body, sink) {
  if (initialized || status !== 'ready') {
    const msg = initialized ? 'Cannot initialize the action more than once.' : 'System not ready, status is ' + status + '.';
    sink.err('Internal system error: ' + msg);
    return { code: 403, body: { error: msg }, markers: false };
  }
  const message = body && typeof body === 'object' && body.value && typeof body.value === 'object' ? body.value : {};
  if (typeof message.code !== 'string' || message.code === '') {
    return { code: 403, body: { error: 'Missing main/no code to execute.' }, markers: true };
  }
  if (message.env && typeof message.env === 'object') {
    for (const k of Object.keys(message.env)) {
      const v = message.env[k];
      process.env[k] = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
  }
  try {
    fs.mkdirSync(ACTION_DIR, { recursive: true });
    const buf = message.binary ? Buffer.from(message.code, 'base64') : undefined;
    if (buf && buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b) {
      extractZip(buf, fs.realpathSync(ACTION_DIR));
      if (!fs.existsSync(EXEC)) throw 'Zipped actions must contain an executable named exec at the root.';
    } else {
      // A binary that is not a zip is the executable itself (wsk --native with a compiled program).
      fs.writeFileSync(EXEC, buf ?? message.code);
    }
    fs.chmodSync(EXEC, 0o755);
  } catch (error) {
    sink.err('Error during initialization: ' + String(error));
    return { code: 502, body: { error: 'Initialization has failed due to: ' + String(error) }, markers: true };
  }
  initialized = true;
  return { code: 200, body: { OK: true }, markers: false };
}

function execute(value, env, sink) {
  return new Promise((resolve) => {
    const input = JSON.stringify(value);
    // Linux caps one argv string at 128 KiB (E2BIG); larger parameters go on stdin only.
    const inArgv = Buffer.byteLength(input) < MAX_ARG_BYTES;
    if (!inArgv) sink.err('The parameters exceed ' + MAX_ARG_BYTES + ' bytes; they are passed on stdin only.');
    let child;
    try {
      child = spawn(EXEC, inArgv ? [input] : [], { cwd: ACTION_DIR, env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ spawnError: e });
      return;
    }
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    // Executables that ignore stdin close it early; that is not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    child.on('error', (e) => resolve({ spawnError: e }));
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

async function runCode(body, log) {
  const sink = logSink(log);
  if (!initialized || status !== 'ready') {
    const msg = !initialized ? 'System not initialized.' : 'System not ready, status is ' + status + '.';
    sink.err('Internal system error: ' + msg);
    return { code: 403, body: { error: msg }, markers: true };
  }
  if (running > 0 && !ALLOW_CONCURRENT) {
    sink.err('Internal system error: System not ready, status is running.');
    // No sentinels: they would cut the running activation's logs short.
    return { code: 403, body: { error: 'System not ready, status is running.' }, markers: false };
  }
  const msg = body && typeof body === 'object' ? body : {};
  if (msg.value === null || msg.value === undefined || typeof msg.value !== 'object') {
    return { code: 403, body: { error: 'Internal system error: the action was not given a parameter object.' }, markers: true };
  }
  // Per-activation env for the child instead of mutating ours, so concurrent runs do not mix.
  const env = { ...process.env };
  for (const k of Object.keys(msg)) {
    if (k !== 'value' && typeof msg[k] === 'string') env['__OW_' + k.toUpperCase()] = msg[k];
  }
  running++;
  let r;
  try {
    r = await execute(msg.value, env, sink);
  } finally {
    running--;
  }
  if (r.spawnError) {
    sink.err('Cannot run the action: ' + (r.spawnError.message || r.spawnError));
    return { code: 502, body: { error: 'The action could not be executed: ' + (r.spawnError.code || r.spawnError.message) }, markers: true };
  }
  const lines = r.stdout.replace(/\s+$/, '').split('\n');
  const last = lines.pop() ?? '';
  if (lines.length > 0) sink.out(lines.join('\n'));
  if (r.stderr !== '') sink.err(r.stderr);
  if (r.code !== 0) {
    const detail = r.signal ? 'was killed by ' + r.signal : 'exited with code ' + r.code;
    const tail = r.stderr
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-ERROR_TAIL_LINES)
      .join('\n')
      .slice(-ERROR_TAIL_CHARS);
    return { code: 502, body: { error: 'The action ' + detail + (tail ? ': ' + tail : '.') }, markers: true };
  }
  let result;
  try {
    result = JSON.parse(last);
  } catch (_) {
    result = undefined;
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    // actionproxy.py logs the offending line, so the developer can see what came out.
    if (last !== '') sink.out(last);
    return { code: 502, body: { error: NOT_A_DICTIONARY }, markers: true };
  }
  return { code: 200, body: result, markers: true };
}

async function dispatch(url, body) {
  // /init output belongs to the activation that triggered it (its id is in the init env).
  const id = url === '/run' ? body && body.activation_id : body && body.value && body.value.env && body.value.env.__OW_ACTIVATION_ID;
  const log = activationLog(id);
  const outcome = url === '/init' ? initCode(body, logSink(log)) : await runCode(body, log);
  // A log file needs no sentinels: the answer that follows says it is complete.
  if (log) log.close();
  else if (outcome.markers) writeMarkers();
  return outcome;
}

serve(dispatch, proxyError, {
  // A private directory on a shared host would otherwise pile up; SIGKILL still leaves it behind.
  onExit: () => {
    if (OWN_ACTION_DIR) fs.rmSync(ACTION_DIR, { recursive: true, force: true });
  },
});
