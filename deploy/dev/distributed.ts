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
import Dockerode from 'dockerode';
import { newCredential, storedCredential } from '@whirl/core';
import { openCouchStores } from '@whirl/store';
import { startReaper, type Reaper } from '../../packages/invoker/src/reaper-client.js';

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
  /** Per-controller extra environment (index → env). */
  controllerEnv?: (i: number) => Record<string, string>;
  /** Fixed controller ports (default: free ones, kept across restarts). */
  controllerPorts?: number[];
  log?: (line: string) => void;
}

export interface Distributed {
  apiHost: string;
  auth: string;
  namespace: string;
  controllerUrls: string[];
  /** Each invoker's GET /metrics (by index; replaced when an invoker is started again). */
  invokerMetricsUrls: string[];
  kafkaBrokers: string;
  couchdbUrl: string;
  prefix: string;
  stopInvoker(i: number, signal?: NodeJS.Signals): Promise<void>;
  startInvoker(i: number): Promise<void>;
  /** Stops controller i; startController(i) brings it back on the same port. */
  stopController(i: number, signal?: NodeJS.Signals): Promise<void>;
  startController(i: number): Promise<void>;
  stop(): Promise<void>;
}

// Read when a topology starts (not at import), so that a suite can pick its own ports first.
const kafkaAddress = (): string => `127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`;
const couchUrl = (): string =>
  `http://${process.env.COUCHDB_USER ?? 'whirl'}:${process.env.COUCHDB_PASSWORD ?? 'whirl'}@127.0.0.1:${process.env.COUCHDB_PORT ?? '15984'}`;
const httpsPort = (): string => process.env.NGINX_HTTPS_PORT ?? '18443';

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

/** Stops `child` with `signal`, and with SIGKILL when it has not exited after `graceMs`. */
async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Removes the containers of the given owners: the sweep after invokers that were killed. */
async function removeContainers(owners: string[]): Promise<void> {
  const docker = new Dockerode();
  for (const owner of owners) {
    const list = await docker.listContainers({ all: true, filters: { label: [`whirl.owner=${owner}`] } }).catch(() => []);
    await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
}

export async function startDistributed(opts: DistributedOptions = {}): Promise<Distributed> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const KAFKA = kafkaAddress();
  const COUCH = couchUrl();
  const HTTPS_PORT = httpsPort();
  const prefix = opts.prefix ?? `w${randomBytes(3).toString('hex')}_`;
  const started: string[] = [];
  const controllers: ChildProcess[] = [];
  const invokers: (ChildProcess | undefined)[] = [];
  const m = opts.invokers ?? 2;
  const owners = Array.from({ length: m }, (_, i) => `${prefix}invoker${i}`);
  // Should this launcher be killed outright, the reaper stops what it started (docs/faults.md).
  const stateDir = path.join(process.env.WHIRL_DEV_STATE ?? path.join(root, '.tmp'), 'distributed');
  mkdirSync(stateDir, { recursive: true });
  const reaper: Reaper = startReaper(path.join(stateDir, `reaper-${process.pid}.json`), {});
  const tellReaper = (): void =>
    reaper.update({
      pids: [...controllers, ...invokers].flatMap((c) => (c?.pid !== undefined && c.exitCode === null ? [c.pid] : [])),
      owners,
      stopCommands: [...started].reverse().map((svc) => ['bash', path.join(root, 'deploy/dev', `${svc}.sh`), 'stop']),
      graceMs: 70_000,
    });
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      // An invoker bounds its own stop (60 s) and removes its containers; one that had to be
      // killed leaves them to the sweep below.
      await Promise.all(invokers.map((c) => stopChild(c, 'SIGTERM', 70_000)));
      await removeContainers(owners);
      await Promise.all(controllers.map((c) => stopChild(c)));
      for (const s of started.reverse()) await service(s, 'stop').catch(() => false);
      reaper.dismiss();
    })());
  try {
    return await startAll();
  } catch (err) {
    // A start that fails half-way (nginx refused, a controller exited) stops what it did start:
    // the caller may try again, and must not meet this attempt's processes on the same ports.
    await stopAll().catch(() => undefined);
    throw err;
  }

  async function startAll(): Promise<Distributed> {
    for (const s of ['dockerd', 'kafka', 'couchdb']) {
      if (await service(s, 'start')) started.push(s);
      tellReaper();
    }

    // The guest subject, with a random key.
    const stores = await openCouchStores(COUCH, { prefix });
    const guest = newCredential('guest');
    await stores.subjects.putSubject({ subject: 'guest', namespaces: [await storedCredential(guest)] });
    await stores.close();

    const n = opts.controllers ?? 1;
    const common = {
      WHIRL_KAFKA_BROKERS: KAFKA,
      WHIRL_KAFKA_PREFIX: prefix,
      WHIRL_COUCHDB_URL: COUCH,
      WHIRL_DB_PREFIX: prefix,
      WHIRL_LOG_LEVEL: 'warn',
      ...opts.env,
    };
    const controllerUrls: string[] = [];
    const startController = async (i: number): Promise<void> => {
      // A restarted controller keeps its port, so that nginx finds it again.
      const port = opts.controllerPorts?.[i] ?? (controllerUrls[i] ? Number(new URL(controllerUrls[i]).port) : 0);
      const { child, line } = await spawnProcess(
        'packages/controller/src/main.ts',
        { ...common, WHIRL_CONTROLLER_ID: String(i), WHIRL_CONTROLLERS: String(n), WHIRL_PORT: String(port), WHIRL_API_HOST: `https://127.0.0.1:${HTTPS_PORT}`, ...opts.controllerEnv?.(i) },
        /listening on (http:\/\/\S+)/,
        log,
        `controller${i}`,
      );
      controllers[i] = child;
      tellReaper();
      controllerUrls[i] = line.replace(/^.*listening on /, '');
    };
    for (let i = 0; i < n; i++) await startController(i);
    const invokerMetricsUrls: string[] = [];
    const startInvoker = async (i: number): Promise<void> => {
      const { child, line } = await spawnProcess(
        'packages/invoker/src/main.ts',
        // Several invokers share this machine: each takes a free port for its /metrics.
        { ...common, WHIRL_INVOKER_ID: String(i), WHIRL_API_HOST: `https://127.0.0.1:${HTTPS_PORT}`, WHIRL_METRICS_PORT: '0', ...opts.invokerEnv?.(i) },
        /invoker\d+ ready \(metrics \S+\)/,
        log,
        `invoker${i}`,
      );
      invokers[i] = child;
      invokerMetricsUrls[i] = /metrics (\S+)\)/.exec(line)?.[1] ?? '';
      tellReaper();
    };
    for (let i = 0; i < m; i++) await startInvoker(i);
    await service('nginx', 'start', ...controllerUrls.map((u) => u.replace(/^http:\/\//, '')));
    started.push('nginx');
    tellReaper();

    const apiHost = `https://127.0.0.1:${HTTPS_PORT}`;
    const auth = `${guest.uuid}:${guest.key}`;
    writeFileSync(path.join(stateDir, 'wskprops'), `APIHOST=${apiHost}\nAUTH=${auth}\nNAMESPACE=guest\n`, { mode: 0o600 });

    return {
      apiHost,
      auth,
      namespace: 'guest',
      controllerUrls,
      invokerMetricsUrls,
      kafkaBrokers: KAFKA,
      couchdbUrl: COUCH,
      prefix,
      stopInvoker: (i, signal) => stopChild(invokers[i], signal),
      stopController: (i, signal) => stopChild(controllers[i], signal),
      startInvoker,
      startController,
      stop: stopAll,
    };
  }
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // WHIRL_DEV_PREFIX names this run's topics, databases and container owners (default: random).
  const prefix = process.env.WHIRL_DEV_PREFIX;
  startDistributed({ log: (l) => process.stderr.write(`${l}\n`), ...(prefix ? { prefix } : {}) }).then(
    (d) => {
      let stopping = false;
      const shutdown = (): void => {
        // Ctrl-C reaches every process of the group at once; one stop is enough.
        if (stopping) return;
        stopping = true;
        d.stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
      // After the handlers: a Ctrl-C typed as soon as this appears stops what was started.
      process.stdout.write(`APIHOST=${d.apiHost} AUTH=${d.auth} NAMESPACE=${d.namespace}\n`);
      process.stderr.write(`Distributed Whirl is up (self-signed TLS: use -i / ignore_certs). CLI: WSK_CONFIG_FILE=.tmp/distributed/wskprops pnpm whirl -i list\n`);
    },
    (err: unknown) => {
      process.stderr.write(`distributed start failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
