'use strict';
/*
 * Whirl's OpenWhisk-compatible Node.js action proxy.
 *
 * Self-contained on purpose: it runs inside a FROM-scratch image that holds nothing but a node binary,
 * so it may only use the Node standard library. Behaviour follows apache/openwhisk-runtime-nodejs
 * (see OPENWHISK-COMPAT.md §5) because the invoker and existing actions depend on its quirks.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const Module = require('node:module');
const { AsyncLocalStorage } = require('node:async_hooks');
// Shared with the docker-skeleton proxy.
const { extractZip, extractTar } = require('./archive.js');
const { serve } = require('./proxy-http.js');
const { LOG_FILES, activationLog } = require('./log-files.js');

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';
const FAKE_SENTINEL_SUFFIX = ' (printed by the action)';
const ALLOW_CONCURRENT = process.env.__OW_ALLOW_CONCURRENT === 'true';

// With several activations in the container at once, their output interleaves. Each line written
// while an activation runs is then tagged with its id (`\x1e<id>\x1f<line>`), and its sentinels too,
// so the invoker can attribute every line; partial lines are held per activation until complete.
// With log files (log-files.js), each activation's lines go to its own file instead; what it prints
// after its answer (a timer it left behind) goes to stdout, untagged, where no activation collects it.
const activationContext = new AsyncLocalStorage();

// ---------------------------------------------------------------------------------------------
// Output guarding: the invoker ends log collection at the sentinel line, so an action printing it
// could hide or forge log lines. The proxy keeps the unwrapped writers for its own sentinels.

function guardStream(stream) {
  const raw = stream.write.bind(stream);
  // Tail of the user's previous output on this stream, so a sentinel split across writes is caught.
  let tail = '';
  function neutralize(text) {
    const combined = tail + text;
    let out = '';
    let from = 0; // position in `text` copied so far
    let searchAt = 0;
    for (;;) {
      const at = combined.indexOf(SENTINEL, searchAt);
      if (at < 0) break;
      const end = at + SENTINEL.length - tail.length; // sentinel end, as an offset into `text`
      if (end > 0) {
        out += text.slice(from, end) + FAKE_SENTINEL_SUFFIX;
        from = end;
      }
      searchAt = at + SENTINEL.length;
    }
    out += text.slice(from);
    tail = combined.slice(-(SENTINEL.length - 1));
    return out;
  }
  function guardedWrite(chunk, encoding, cb) {
    const ctx = ALLOW_CONCURRENT || LOG_FILES ? activationContext.getStore() : undefined;
    if (ctx && !(ctx.log && ctx.done)) {
      try {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
        const key = stream === process.stdout ? 'out' : 'err';
        const pending = ctx[key] + neutralize(text);
        const lines = pending.split('\n');
        ctx[key] = lines.pop();
        if (ctx.log) ctx.log.write(key, lines);
        else if (lines.length > 0) raw(lines.map((l) => '\x1e' + ctx.id + '\x1f' + l + '\n').join(''));
        if (typeof encoding === 'function') encoding();
        else if (typeof cb === 'function') cb();
        return true;
      } catch (_) {
        // Fall through to an untagged write rather than lose the output.
      }
    }
    try {
      if (typeof chunk === 'string') {
        const enc = typeof encoding === 'string' ? encoding.toLowerCase() : 'utf8';
        if (enc === 'utf8' || enc === 'utf-8' || enc === 'ascii' || enc === 'latin1' || enc === 'binary') {
          chunk = neutralize(chunk);
        } else {
          chunk = Buffer.from(neutralize(Buffer.from(chunk, enc).toString('latin1')), 'latin1');
          if (typeof encoding === 'string') encoding = undefined;
        }
      } else if (chunk instanceof Uint8Array) {
        // latin1 maps bytes 1:1, so the round trip leaves non-sentinel bytes untouched.
        const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
        const fixed = neutralize(text);
        if (fixed !== text) chunk = Buffer.from(fixed, 'latin1');
      }
    } catch (_) {
      // Never let the guard break the user's logging.
    }
    return raw(chunk, encoding, cb);
  }
  stream.write = guardedWrite;
  return {
    raw,
    resetTail() {
      tail = '';
    },
  };
}

const outGuard = guardStream(process.stdout);
const errGuard = guardStream(process.stderr);

/** A line the action left unfinished still belongs to it: end it, tagged (or in its file). */
function flushPartialLines(ctx) {
  if (ctx.log) {
    if (ctx.out !== '') ctx.log.write('out', [ctx.out]);
    if (ctx.err !== '') ctx.log.write('err', [ctx.err]);
    ctx.out = '';
    ctx.err = '';
    return;
  }
  const tag = '\x1e' + ctx.id + '\x1f';
  if (ctx.out !== '') outGuard.raw(tag + ctx.out + '\n');
  if (ctx.err !== '') errGuard.raw(tag + ctx.err + '\n');
  ctx.out = '';
  ctx.err = '';
}

function writeMarkers(ctx) {
  // A log file needs no end marker: the answer that follows says it is complete.
  if (ctx && ctx.log) {
    flushPartialLines(ctx);
    return;
  }
  if (ctx) {
    const tag = '\x1e' + ctx.id + '\x1f';
    flushPartialLines(ctx);
    outGuard.raw(tag + SENTINEL + '\n');
    errGuard.raw(tag + SENTINEL + '\n');
    return;
  }
  outGuard.raw(SENTINEL + '\n');
  errGuard.raw(SENTINEL + '\n');
  outGuard.resetTail();
  errGuard.resetTail();
}

function proxyError(...args) {
  const text = args.map((a) => (typeof a === 'string' ? a : require('node:util').inspect(a))).join(' ');
  // Within an activation that logs to a file, its errors are its logs (as on stderr without files).
  const ctx = LOG_FILES ? activationContext.getStore() : undefined;
  if (ctx && ctx.log && !ctx.done) ctx.log.write('err', text.split('\n'));
  else errGuard.raw(text + '\n');
}

// ---------------------------------------------------------------------------------------------
// serialize-error@2 semantics, which the reference runtime applies to rejection reasons.

function serializeError(value) {
  if (typeof value === 'object' && value !== null) return destroyCircular(value, []);
  if (typeof value === 'function') return '[Function: ' + (value.name || 'anonymous') + ']';
  return value;
}

function destroyCircular(from, seen) {
  const to = Array.isArray(from) ? [] : {};
  seen.push(from);
  for (const key of Object.keys(from)) {
    const value = from[key];
    if (typeof value === 'function') continue;
    if (!value || typeof value !== 'object') {
      to[key] = value;
      continue;
    }
    to[key] = seen.indexOf(value) === -1 ? destroyCircular(value, seen.slice(0)) : '[Circular]';
  }
  for (const prop of ['name', 'message', 'stack', 'code']) {
    if (typeof from[prop] === 'string') to[prop] = from[prop];
  }
  return to;
}

function extractArchive(base64) {
  const buf = Buffer.from(base64, 'base64');
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'action-')));
  try {
    if (buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b) extractZip(buf, root);
    else if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) extractTar(zlib.gunzipSync(buf), root);
    else throw new Error('unknown archive format');
  } catch (e) {
    proxyError('Error extracting the action archive:', e);
    throw 'There was an error uncompressing the action archive.';
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// Loading the action

function assertMainIsFunction(handler, name) {
  if (typeof handler !== 'function') throw "ActionEntrypoint '" + name + "' is not a function.";
  return handler;
}

function propertyPath(obj, dotted) {
  return dotted.split('.').reduce((o, k) => (o === undefined || o === null ? undefined : o[k]), obj);
}

function loadPlain(code, main) {
  // Same shape as the reference runtime's eval: the code's function declarations are visible to
  // `return <main>`, and module.exports/exports are the fallback. Evaluated with Function rather
  // than eval so user code cannot see the proxy's own variables.
  const filename = path.join(process.cwd(), 'action.js');
  const mod = { exports: {}, id: filename, filename, loaded: false };
  const req = Module.createRequire(filename);
  const body =
    code +
    '\ntry {\n  return ' + main + ';\n} catch (e) {\n' +
    "  if (e && e.name === 'ReferenceError') return module.exports." + main + ' || exports.' + main + ';\n' +
    '  throw e;\n}';
  const fn = new Function('exports', 'require', 'module', '__filename', '__dirname', body);
  const handler = fn.call(mod.exports, mod.exports, req, mod, filename, path.dirname(filename));
  mod.loaded = true;
  return assertMainIsFunction(handler, main);
}

function loadArchive(code, main) {
  const dir = extractArchive(code);
  const m = /^([^.]+)$|^([^.]+)\.(.+)$/.exec(main);
  if (!m) throw 'Name of main function is not valid.';
  const file = m[1] ? undefined : m[2];
  const func = m[1] || m[3];
  process.chdir(dir);
  if (file === undefined && !fs.existsSync(path.join(dir, 'package.json')) && !fs.existsSync(path.join(dir, 'index.js'))) {
    throw 'Zipped actions must contain either package.json or index.js at the root.';
  }
  const target = file !== undefined ? path.join(dir, file) : dir;
  // require() resolves a directory through package.json "main", falling back to index.js.
  const exported = require(target);
  return assertMainIsFunction(propertyPath(exported, func), main);
}

// ---------------------------------------------------------------------------------------------
// State machine (ready → starting → ready | stopped; ready → running → ready | stopped)

let status = 'ready';
let userMain;

function setStatus(next) {
  if (status !== 'stopped') status = next;
}

function initCode(body) {
  if (status !== 'ready' || userMain !== undefined) {
    const msg = userMain !== undefined ? 'Cannot initialize the action more than once.' : 'System not ready, status is ' + status + '.';
    proxyError('Internal system error:', msg);
    return { code: 403, body: { error: msg }, markers: false };
  }
  const message = body && typeof body === 'object' && body.value && typeof body.value === 'object' ? body.value : {};
  if (!message.main || !message.code || typeof message.main !== 'string' || typeof message.code !== 'string') {
    return { code: 403, body: { error: 'Missing main/no code to execute.' }, markers: true };
  }
  setStatus('starting');
  if (message.env && typeof message.env === 'object') {
    for (const k of Object.keys(message.env)) {
      const v = message.env[k];
      if (v === null || v === undefined) process.env[k] = '';
      else if (typeof v === 'object') process.env[k] = JSON.stringify(v);
      else process.env[k] = String(v);
    }
  }
  try {
    userMain = message.binary ? loadArchive(message.code, message.main) : loadPlain(message.code, message.main);
    setStatus('ready');
    return { code: 200, body: { OK: true }, markers: false };
  } catch (error) {
    userMain = undefined;
    proxyError('Error during initialization:', error);
    setStatus('stopped');
    const errStr = error && error.stack ? String(error.stack) : String(error);
    return { code: 502, body: { error: 'Initialization has failed due to: ' + errStr }, markers: true };
  }
}

async function runCode(body) {
  if (status !== 'ready' || userMain === undefined) {
    const msg = userMain === undefined && status === 'ready' ? 'System not initialized.' : 'System not ready, status is ' + status + '.';
    proxyError('Internal system error:', msg);
    // A refusal because another activation is in flight must not print sentinels: they would cut
    // that activation's logs short.
    return { code: 403, body: { error: msg }, markers: status !== 'running' };
  }
  const msg = body && typeof body === 'object' ? body : {};
  if (msg.value === null || msg.value === undefined || typeof msg.value !== 'object') {
    return { code: 403, body: { error: 'Internal system error: the action was not given a parameter object.' }, markers: true };
  }
  if (!ALLOW_CONCURRENT) setStatus('running');
  for (const k of Object.keys(msg)) {
    if (k !== 'value' && typeof msg[k] === 'string') process.env['__OW_' + k.toUpperCase()] = msg[k];
  }
  let result;
  try {
    result = await runUser(msg.value);
  } catch (error) {
    proxyError(error);
    setStatus('stopped');
    return { code: 502, body: { error: 'An error has occurred: ' + describe(error) }, markers: true };
  }
  if (!ALLOW_CONCURRENT) setStatus('ready');
  if (typeof result !== 'object') {
    proxyError('Result must be of type object but has type "' + typeof result + '":', result);
    return { code: 502, body: { error: 'The action did not return a dictionary.' }, markers: true };
  }
  return { code: 200, body: result, markers: true };
}

function describe(error) {
  try {
    return String(error);
  } catch (_) {
    return Object.prototype.toString.call(error);
  }
}

function runUser(args) {
  return new Promise((resolve, reject) => {
    let result;
    try {
      result = userMain(args);
    } catch (e) {
      reject(e);
      return;
    }
    Promise.resolve(result).then(
      (resolved) => resolve(resolved === undefined ? {} : resolved),
      // A rejection is an application error, not a proxy failure.
      (error) => resolve({ error: error ? serializeError(error) : {} }),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP (shared with the docker skeleton: proxy-http.js)

async function dispatch(url, body) {
  // /init output belongs to the activation that triggered it (its id is in the init env).
  const rawId = url === '/run' ? body && body.activation_id : body && body.value && body.value.env && body.value.env.__OW_ACTIVATION_ID;
  const id = typeof rawId === 'string' && /^[0-9a-f]{32}$/.test(rawId) ? rawId : undefined;
  const log = activationLog(id);
  const ctx = (ALLOW_CONCURRENT || log) && id ? { id, out: '', err: '', log, done: false } : undefined;
  const work = () => (url === '/init' ? initCode(body) : runCode(body));
  const outcome = ctx ? await activationContext.run(ctx, work) : await work();
  // Sentinels go out before the response so that, once the invoker has its answer, the end of
  // this activation's logs is already in the stream.
  if (outcome.markers) writeMarkers(ctx);
  else if (ctx) flushPartialLines(ctx);
  if (log) {
    ctx.done = true;
    log.close();
  }
  return outcome;
}

serve(dispatch, proxyError);
