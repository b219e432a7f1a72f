/**
 * The distributed topology on one machine, for tests and demos (`pnpm start:distributed`): dev
 * services (dockerd, Kafka, a CouchDB-API server, nginx), N controllers and M invokers as separate
 * processes, and a guest subject. Prints `APIHOST=... AUTH=... NAMESPACE=guest` and stops everything
 * it started on SIGINT/SIGTERM (or when `stop()` is called from a test).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { newCredential, storedCredential } from '@whirl/core';
import { openCouchStores } from '@whirl/store';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface DistributedOptions {
  controllers?: number;
  invokers?: number;
  /** Unique per run so that several runs can share the dev services. */
  prefix?: string;
  env?: Record<string, string>;
  /** Per-invoker extra environment (index → env). */
  invokerEnv?: (i: number) => Record<string, string>;
  log?: (line: string) => void;
}

export interface Distributed {
  apiHost: string;
  auth: string;
  namespace: string;
  controllerUrls: string[];
  kafkaBrokers: string;
  couchdbUrl: string;
  prefix: string;
  stopInvoker(i: number, signal?: NodeJS.Signals): Promise<void>;
  startInvoker(i: number): Promise<void>;
  stop(): Promise<void>;
}

const KAFKA = `127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`;
const COUCH = `http://${process.env.COUCHDB_USER ?? 'whirl'}:${process.env.COUCHDB_PASSWORD ?? 'whirl'}@127.0.0.1:${process.env.COUCHDB_PORT ?? '15984'}`;
const HTTPS_PORT = process.env.NGINX_HTTPS_PORT ?? '18443';

async function service(name: string, ...args: string[]): Promise<boolean> {
  const { stdout } = await run('bash', [path.join(root, 'deploy/dev', `${name}.sh`), ...args], { cwd: root, timeout: 600_000 });
  return stdout.trim().split('\n').at(-1) === 'started';
}

function spawnProcess(
  entry: string,
  env: Record<string, string>,
  readyLine: RegExp,
  log: (l: string) => void,
  label: string,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, entry)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
    for (const l of d.toString().split('\n')) if (l.trim() && /"level":(40|50|60)/.test(l)) log(`[${label}] ${l}`);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${label} did not start in time:\n${err.slice(-4000)}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = readyLine.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, line: m[0] });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code}:\n${err.slice(-4000)}`));
    });
  });
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export async function startDistributed(opts: DistributedOptions = {}): Promise<Distributed> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const prefix = opts.prefix ?? `w${randomBytes(3).toString('hex')}_`;
  const started: string[] = [];
  for (const s of ['dockerd', 'kafka', 'couchdb']) if (await service(s, 'start')) started.push(s);

  // The guest subject, with a random key.
  const stores = await openCouchStores(COUCH, { prefix });
  const guest = newCredential('guest');
  await stores.subjects.putSubject({ subject: 'guest', namespaces: [await storedCredential(guest)] });
  await stores.close();

  const n = opts.controllers ?? 1;
  const m = opts.invokers ?? 2;
  const common = {
    WHIRL_KAFKA_BROKERS: KAFKA,
    WHIRL_KAFKA_PREFIX: prefix,
    WHIRL_COUCHDB_URL: COUCH,
    WHIRL_DB_PREFIX: prefix,
    WHIRL_LOG_LEVEL: 'warn',
    ...opts.env,
  };
  const controllers: ChildProcess[] = [];
  const controllerUrls: string[] = [];
  for (let i = 0; i < n; i++) {
    const { child, line } = await spawnProcess(
      'packages/controller/src/main.ts',
      { ...common, WHIRL_CONTROLLER_ID: String(i), WHIRL_CONTROLLERS: String(n), WHIRL_PORT: '0', WHIRL_API_HOST: `https://127.0.0.1:${HTTPS_PORT}` },
      /listening on (http:\/\/\S+)/,
      log,
      `controller${i}`,
    );
    controllers.push(child);
    controllerUrls.push(line.replace(/^listening on /, ''));
  }
  const invokers: (ChildProcess | undefined)[] = [];
  const startInvoker = async (i: number): Promise<void> => {
    const { child } = await spawnProcess(
      'packages/invoker/src/main.ts',
      { ...common, WHIRL_INVOKER_ID: String(i), WHIRL_API_HOST: `https://127.0.0.1:${HTTPS_PORT}`, ...opts.invokerEnv?.(i) },
      /invoker\d+ ready/,
      log,
      `invoker${i}`,
    );
    invokers[i] = child;
  };
  for (let i = 0; i < m; i++) await startInvoker(i);
  await service('nginx', 'start', ...controllerUrls.map((u) => u.replace(/^http:\/\//, '')));
  started.push('nginx');

  const apiHost = `https://127.0.0.1:${HTTPS_PORT}`;
  const auth = `${guest.uuid}:${guest.key}`;
  const dir = path.join(root, '.tmp', 'distributed');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'wskprops'), `APIHOST=${apiHost}\nAUTH=${auth}\nNAMESPACE=guest\n`, { mode: 0o600 });

  let stopping: Promise<void> | undefined;
  return {
    apiHost,
    auth,
    namespace: 'guest',
    controllerUrls,
    kafkaBrokers: KAFKA,
    couchdbUrl: COUCH,
    prefix,
    stopInvoker: (i, signal) => stopChild(invokers[i], signal),
    startInvoker,
    stop: () =>
      (stopping ??= (async () => {
        await Promise.all(invokers.map((c) => stopChild(c)));
        await Promise.all(controllers.map((c) => stopChild(c)));
        for (const s of started.reverse()) await service(s, 'stop').catch(() => false);
      })()),
  };
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  startDistributed({ log: (l) => process.stderr.write(`${l}\n`) }).then(
    (d) => {
      process.stdout.write(`APIHOST=${d.apiHost} AUTH=${d.auth} NAMESPACE=${d.namespace}\n`);
      process.stderr.write(`Distributed Whirl is up (self-signed TLS: use -i / ignore_certs). CLI: WSK_CONFIG_FILE=.tmp/distributed/wskprops pnpm whirl -i list\n`);
      const shutdown = (): void => {
        d.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    },
    (err: unknown) => {
      process.stderr.write(`distributed start failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
