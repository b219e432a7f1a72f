'use strict';
/*
 * The HTTP side of Whirl's Node-based action proxies (the Node.js runtime and the docker skeleton):
 * POST /init and /run with a JSON body, a JSON answer, on port 8080 as OpenWhisk's protocol wants.
 * Shared like archive.js (both images hold it next to their proxy) so that the two proxies cannot
 * drift apart again on the parts the invoker depends on:
 *   - a body over the limit is refused with 500 and read to its end (drained), not left on the
 *     connection, so the invoker gets an answer instead of a reset;
 *   - a result that cannot be serialised (circular, BigInt, nested too deep) is a 500 answer, not a
 *     crashed proxy or a connection left hanging;
 *   - no server timeouts: the invoker keeps connections open across long pauses and long runs.
 * Node standard library only.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

// Express' body-parser limit in the reference runtime is '48mb' (binary megabytes).
const BODY_LIMIT = 48 * 1024 * 1024;

function send(res, code, body) {
  let text;
  try {
    text = JSON.stringify(body);
  } catch (_) {
    code = 500;
    text = JSON.stringify({ error: 'Internal error.' });
  }
  if (text === undefined) text = '{}';
  const payload = Buffer.from(text, 'utf8');
  res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': payload.length });
  res.end(payload);
}

/** The body, or a rejection past `limit` bytes; the rest of an over-limit body is still consumed. */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let failed = false;
    req.on('data', (c) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new Error('request entity too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) {
        failed = true;
        reject(e);
      }
    });
  });
}

/** Where Whirl's invoker mounts the per-container directory that holds the socket and log files. */
const WHIRL_DIR = '/whirl';

/**
 * The Unix socket to listen on besides the TCP port, or undefined: `WHIRL_PROXY_SOCKET` when set
 * (empty: none), else `/whirl/proxy.sock` when the invoker mounted `/whirl`. The variable is taken
 * out of the environment, which the action inherits.
 */
function socketPath() {
  const fromEnv = process.env.WHIRL_PROXY_SOCKET;
  delete process.env.WHIRL_PROXY_SOCKET;
  if (fromEnv !== undefined) return fromEnv === '' ? undefined : fromEnv;
  try {
    return fs.statSync(WHIRL_DIR).isDirectory() ? path.join(WHIRL_DIR, 'proxy.sock') : undefined;
  } catch (_) {
    return undefined;
  }
}

/**
 * Serves the action protocol on `__OW_PROXY_PORT` (8080) and, for Whirl's invoker, on a Unix socket
 * (see socketPath): the same handler behind both, so an OpenWhisk invoker sees the usual image.
 * `dispatch(path, body)` handles a parsed /init or /run and resolves `{ code, body }`; everything else
 * (routing, body limit, JSON, errors) is answered here. `proxyError(...parts)` writes the proxy's own
 * complaints. `opts.onExit` runs at exit.
 */
function serve(dispatch, proxyError, opts = {}) {
  const limit = opts.bodyLimit || BODY_LIMIT;
  async function handle(req, res) {
    const url = (req.url || '').split('?')[0];
    if (req.method !== 'POST' || (url !== '/init' && url !== '/run')) {
      req.resume();
      send(res, 500, { error: 'Bad request.' });
      return;
    }
    let body;
    try {
      const raw = await readBody(req, limit);
      body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
    } catch (e) {
      proxyError(e && e.message ? e.message : e);
      res.setHeader('Connection', 'close');
      send(res, 500, { error: 'Bad request.' });
      return;
    }
    const outcome = await dispatch(url, body);
    send(res, outcome.code, outcome.body);
  }
  function listener(req, res) {
    handle(req, res).catch((e) => {
      proxyError('[proxy] unexpected failure', e);
      if (!res.headersSent) send(res, 500, { error: 'Internal error.' });
    });
  }
  function makeServer() {
    const server = http.createServer(listener);
    // The invoker keeps connections open across long pauses (docker pause) and long runs.
    server.keepAliveTimeout = 0;
    server.requestTimeout = 0;
    server.headersTimeout = 0;
    server.timeout = 0;
    return server;
  }
  const servers = [makeServer()];
  servers[0].listen(Number(process.env.__OW_PROXY_PORT || 8080), '0.0.0.0');
  const sock = socketPath();
  if (sock !== undefined) {
    const unix = makeServer();
    servers.push(unix);
    try {
      fs.unlinkSync(sock);
    } catch (_) {
      // Not there: the usual case.
    }
    unix.on('error', (e) => proxyError('[proxy] cannot listen on ' + sock + ':', e && e.message ? e.message : e));
    // The invoker may run as another user than the action: anyone who can reach the directory may
    // connect (the directory itself is private to the invoker and this container).
    unix.listen(sock, () => fs.chmodSync(sock, 0o777));
  }
  function shutdown() {
    for (const s of servers) s.close();
    process.exit(0);
  }
  if (opts.onExit) process.on('exit', opts.onExit);
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return servers;
}

module.exports = { BODY_LIMIT, WHIRL_DIR, readBody, send, serve, socketPath };
