/**
 * Standalone Whirl: the controller and one invoker in one process, with the embedded adapters
 * (SQLite store, in-process bus) and Docker containers when a daemon answers (else local processes,
 * with a loud warning). The same controller and invoker code runs distributed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Dockerode from 'dockerode';
import pino, { type Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  Topics,
  ackOf,
  newCredential,
  storedCredential,
  verifyKey,
  lostActivationRecord,
  type ActivationJournal,
  type ActivationStore,
  type PendingActivation,
  type ContainerFactory,
  type SubjectStore,
} from '@whirl/core';
import {
  ActivationWaiter,
  ControllerMetrics,
  applyAck,
  ensureSubject,
  ControllerConfigSchema,
  controllerDefaultsFrom,
  RetentionSweeper,
  LeanBalancer,
  SYSTEM_NAMESPACE,
  buildApp,
  createEventSources,
  installCatalog,
  manifestKinds,
} from '@whirl/controller';
import { DockerContainerFactory, Invoker, ProcessContainerFactory, manifestRuntimeImages, poolOptionsFrom, startReaper } from '@whirl/invoker';
import { LocalMessageBus } from '@whirl/messaging';
import { ensureRuntimeImages, loadManifest } from '@whirl/runtimes';
import { openSqliteJournal, openSqliteScheduleStore, openSqliteStateStore, openSqliteStores } from '@whirl/store';
import type { StandaloneConfig } from './config.js';

export interface Standalone {
  apiHost: string;
  auth: string;
  namespace: string;
  /** The admin API's Bearer key (WHIRL_ADMIN_KEY, or the one kept in <data-dir>/admin-key). */
  adminKey: string;
  factory: ContainerFactory['kind'];
  stop(): Promise<void>;
  /** The last resort of a stop that cannot finish: removes this deployment's containers. */
  removeContainers(): Promise<void>;
}

export async function startStandalone(config: Readonly<StandaloneConfig>, log: Logger = pino({ level: config.logLevel }, pino.destination(2))): Promise<Standalone> {
  mkdirSync(config.dataDir, { recursive: true });
  const stores = openSqliteStores(path.join(config.dataDir, 'whirl.db'));
  const journal = openSqliteJournal(path.join(config.dataDir, 'whirl.db'));
  await recordLostActivations(journal, stores.activations, log);
  const guest = await guestCredential(config.dataDir, stores.subjects, log);
  const adminKey = config.adminKey ?? adminKeyOf(config.dataDir);
  // The catalog's owner; its key is random like guest's and is never printed.
  await ensureSubject(stores.subjects, SYSTEM_NAMESPACE);
  const manifest = loadManifest();

  // Containers are told where the API is (__OW_API_HOST) when they start, before the server listens,
  // so a port of 0 is resolved to a concrete free port first.
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const factory = await chooseFactory(config, log);
  const owner = `${instanceId(config.dataDir)}/invoker0`;
  if (factory instanceof DockerContainerFactory) {
    const built = await ensureRuntimeImages({
      docker: factory.docker,
      manifest,
      // A first start builds the runtime images (a few seconds each): say so plainly on a terminal.
      onProgress: (m) => (process.stderr.isTTY ? process.stderr.write(`whirl: ${m}\n`) : log.info(m)),
    });
    if (built.length > 0) log.info({ built }, 'runtime images built');
  }

  // One registry for the whole process: the controller's and the invoker's metrics, and Node's own.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new ControllerMetrics({
    registries: [registry],
    // Without a token only callers on this machine may scrape, whatever address standalone listens on.
    access: { token: config.metricsToken, loopbackOnly: true },
  });

  const bus = new LocalMessageBus(log);
  const waiter = new ActivationWaiter();
  const lb = new LeanBalancer(bus, '0');
  await bus.subscribe(Topics.completed('0'), 'controller0', async (m) => {
    applyAck(ackOf(m), waiter, lb);
  });

  const invoker = new Invoker(
    {
      bus,
      entities: stores.entities,
      activations: stores.activations,
      factory,
      journal,
      runtimes: manifestRuntimeImages(manifest),
      log,
      metrics: registry,
    },
    {
      id: '0',
      owner,
      ...poolOptionsFrom(config),
      keepAliveStateFile: config.keepAliveStateFile ?? path.join(config.dataDir, 'keepalive.json'),
      apiHost: `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`,
    },
  );
  await invoker.start();
  // Killed outright, this process cannot remove its containers: the reaper, which outlives it, does.
  const reaper = factory.kind === 'docker' ? startReaper(path.join(config.dataDir, 'reaper.json'), { owners: [owner] }) : undefined;

  const kinds = manifestKinds(manifest);
  const state = openSqliteStateStore(path.join(config.dataDir, 'whirl.db'));
  const { app, ctx } = await buildApp(
    { entities: stores.entities, activations: stores.activations, subjects: stores.subjects, state, kinds, lb, waiter, journal, logger: log, metrics },
    ControllerConfigSchema.parse({
      controllerId: '0',
      adminKey,
      ...controllerDefaultsFrom(config),
    }),
  );
  await app.listen({ port, host: config.host });
  const apiHost = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  const auth = `${guest.uuid}:${guest.key}`;
  writeFileSync(path.join(config.dataDir, 'wskprops'), `APIHOST=${apiHost}\nAUTH=${auth}\nNAMESPACE=guest\n`, { mode: 0o600 });
  // The operator's counterpart of wskprops, read by `whirl admin` (WHIRL_ADMIN_CONFIG_FILE).
  writeSecret(path.join(config.dataDir, 'adminprops'), `APIHOST=${apiHost}\nADMIN_KEY=${adminKey}\n`);

  const changed = await installCatalog(ctx, { apiHost });
  if (changed.length > 0) log.info({ changed }, 'system catalog installed');
  const schedules = openSqliteScheduleStore(path.join(config.dataDir, 'whirl.db'));
  const sources = createEventSources(ctx, state, schedules, { controllerId: '0', apiHost, log });
  await sources.start();
  const retention = new RetentionSweeper(stores.activations, stores.subjects, {
    defaultDays: config.retentionDays,
    intervalMs: config.retentionSweepMs,
    log,
  });
  retention.start();

  let stopping: Promise<void> | undefined;
  return {
    apiHost,
    auth,
    namespace: 'guest',
    adminKey,
    factory: factory.kind,
    stop: () =>
      (stopping ??= (async () => {
        await retention.stop();
        await sources.stop();
        await app.close();
        await invoker.stop();
        waiter.close();
        await bus.close();
        await factory.close();
        await journal.close();
        await schedules.close();
        await state.close();
        await stores.close();
        reaper?.dismiss();
      })()),
    removeContainers: async () => {
      await factory.removeAll('whirl.owner', owner);
    },
  };
}

/**
 * The guest credential printed at every start and written to wskprops. Keys are stored hashed, so the
 * clear one is kept beside the database in `<data-dir>/guest-key` (mode 0600, like wskprops itself).
 * A data dir from before hashing has no such file but its wskprops holds the key: it is taken from
 * there when it still verifies. If neither does, guest gets a new key (the old ones stay valid).
 */
async function guestCredential(dataDir: string, subjects: SubjectStore, log: Logger): Promise<{ uuid: string; key: string }> {
  const file = path.join(dataDir, 'guest-key');
  const created = await ensureSubject(subjects, 'guest');
  if (created.key !== undefined) {
    writeSecret(file, `${created.uuid}:${created.key}\n`);
    return { uuid: created.uuid, key: created.key };
  }
  const subject = await subjects.getSubject('guest');
  for (const source of [file, path.join(dataDir, 'wskprops')]) {
    const text = readOptional(source);
    const m = text === undefined ? null : /^(?:AUTH=)?([^:\s]+):(\S{64})$/m.exec(text);
    if (!m) continue;
    const cred = subject?.namespaces.find((n) => n.name === 'guest' && n.uuid === m[1]);
    if (cred && (await verifyKey(m[2]!, cred.keyHash))) {
      if (source !== file) writeSecret(file, `${m[1]}:${m[2]}\n`);
      return { uuid: m[1]!, key: m[2]! };
    }
  }
  const fresh = newCredential('guest');
  await subjects.putSubject({ subject: 'guest', ...(subject ?? {}), namespaces: [...(subject?.namespaces ?? []), await storedCredential(fresh)] });
  writeSecret(file, `${fresh.uuid}:${fresh.key}\n`);
  log.warn('no stored guest key verified, so guest was given a new one (see <data-dir>/guest-key)');
  return { uuid: fresh.uuid, key: fresh.key };
}

/** WHIRL_ADMIN_KEY unset: the key generated on first start and kept in `<data-dir>/admin-key` (0600). */
function adminKeyOf(dataDir: string): string {
  const file = path.join(dataDir, 'admin-key');
  const existing = readOptional(file)?.trim();
  if (existing !== undefined && existing.length >= 32) return existing;
  const key = randomBytes(32).toString('base64url');
  writeSecret(file, `${key}\n`);
  return key;
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function writeSecret(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  // writeFileSync's mode applies only to a new file.
  chmodSync(file, 0o600);
}

/**
 * Activations whose ids were handed out before the last stop or crash but whose records were never
 * stored: each gets a failed record now, so every id a caller holds reads back.
 */
async function recordLostActivations(journal: ActivationJournal, activations: ActivationStore, log: Logger): Promise<void> {
  const lost = await journal.open();
  if (lost.length === 0) return;
  const now = Date.now();
  const missing: PendingActivation[] = [];
  for (const p of lost) if (!(await activations.get(p.namespace, p.activationId))) missing.push(p);
  await activations.put(missing.map((p) => lostActivationRecord(p, now)));
  await journal.end(lost);
  log.warn({ count: missing.length }, 'recorded activations lost when Whirl last stopped');
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * This deployment's id, kept in the data dir: it marks its containers, so that a restart (even after a
 * crash) removes its own leftovers and nobody else's.
 */
export function instanceId(dataDir: string): string {
  const file = path.join(dataDir, 'instance-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{16}$/.test(id)) return id;
  } catch {
    // first start
  }
  const id = randomBytes(8).toString('hex');
  writeFileSync(file, `${id}\n`);
  return id;
}

async function chooseFactory(config: Readonly<StandaloneConfig>, log: Logger): Promise<ContainerFactory> {
  if (config.containers !== 'process') {
    const docker = new Dockerode();
    try {
      await docker.ping();
      // Whirl's own images are reached over a Unix socket and log to files in <data dir>/containers.
      return new DockerContainerFactory({ docker, userMemoryMB: config.userMemoryMB, stateDir: path.join(config.dataDir, 'containers'), logFiles: true });
    } catch (err) {
      if (config.containers === 'docker') throw new Error(`Docker was asked for (--containers docker) but no daemon answers: ${(err as Error).message}`);
    }
  }
  const warning =
    'WARNING: no Docker daemon answers, so actions run as local processes with NO ISOLATION: user code has the full rights of this process. Use this only for development.';
  // Once: plainly (and set off) on a terminal, as a log line where logs are collected.
  if (process.stderr.isTTY) process.stderr.write(`\n${warning}\n\n`);
  else log.warn(warning);
  return new ProcessContainerFactory({ stateDir: path.join(config.dataDir, 'containers'), logFiles: true });
}
