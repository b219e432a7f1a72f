#!/usr/bin/env node
/**
 * A distributed controller: CouchDB for subjects, entities and activations; Kafka to the invokers
 * (sharding balancer, health pings, completion acks) and to the other controllers (cache invalidation).
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  ConfigError,
  Topics,
  ackOf,
  defaultActionLimits,
  encode,
  lostActivationRecord,
  newActivationId,
  retryWithBackoff,
  type ActivationMessage,
  type EntityStore,
  type WhiskAction,
} from '@whirl/core';
import { KafkaMessageBus } from '@whirl/messaging';
import { loadManifest } from '@whirl/runtimes';
import { openCouchScheduleStore, openCouchStateStore, openCouchStores } from '@whirl/store';
import { createEventSources } from './feeds/index.js';
import { installCatalog } from './catalog/index.js';
import { buildApp } from './app.js';
import { ControllerMetrics } from './metrics.js';
import { ControllerConfigSchema, controllerDefaultsFrom } from './config.js';
import { loadControllerProcessConfig } from './config-env.js';
import { manifestKinds } from './kinds.js';
import { ShardingBalancer, defaultAckTimeoutMs } from './loadbalancer/sharding.js';
import { ActivationLedger, HEALTH_TEST_TRANSID, LedgerJournal } from './ledger.js';
import { ensureSubject } from './subjects.js';
import type { AuthInvalidation } from './auth.js';
import { RetentionSweeper } from './retention.js';
import { ActivationWaiter, applyAck } from './waiter.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadControllerProcessConfig(process.env);
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const id = config.controllerId;
  const log = pino({ level: config.logLevel, base: { controller: id } }, pino.destination(2));
  const stores = await openCouchStores(config.couchdbUrl, { prefix: config.dbPrefix });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // The bus reports to the metrics and the metrics read the bus's lag: the bus comes first.
  let metrics: ControllerMetrics | undefined;
  const bus = new KafkaMessageBus({
    brokers: config.kafkaBrokers.split(','),
    clientId: `controller${id}`,
    prefix: config.kafkaPrefix,
    logger: log,
    onPublish: (topic, seconds, ok) => metrics?.published(topic, seconds, ok),
  });
  metrics = new ControllerMetrics({ registries: [registry], access: { token: config.metricsToken }, consumerLag: () => bus.consumerLag() });
  await bus.ensureTopics([Topics.completed(id), Topics.cacheInvalidation, Topics.health, Topics.compositions]);

  const system = await ensureSubject(stores.subjects, 'whisk.system');
  const testAction = await ensureHealthTestAction(stores.entities, id);
  const waiter = new ActivationWaiter({
    // The invoker answered a blocking caller and died before storing the record: store it from the result.
    onOrphanedResult: async (record) => {
      if (await stores.activations.get(record.namespace, record.activationId)) return;
      log.warn({ activationId: record.activationId }, 'storing a record from its result: the invoker never completed it');
      await stores.activations.put(
        [{ ...record, logs: [...record.logs, `${new Date().toISOString()} stderr: The logs were lost: the invoker stopped before it stored this record.`] }],
        { keepExisting: true },
      );
    },
  });
  const ackTimeoutMs = (actionTimeoutMs: number): number => config.ackTimeoutMs ?? defaultAckTimeoutMs(actionTimeoutMs);
  const lb: ShardingBalancer = new ShardingBalancer(bus, {
    controllerId: id,
    controllers: config.controllers,
    log,
    ackTimeoutMs,
    // No ack ever came (the invoker died or lost the message): the id handed out must still read back.
    onForcedCompletion: async (p) => {
      // The store may be down too (that may be why no ack came): keep trying for as long as an invoker
      // retries its own records, so the id reads back once the store is back.
      const giveUpAt = Date.now() + 600_000;
      await retryWithBackoff(
        // keepExisting: a record the invoker did store in the end stays as it is.
        () =>
          stores.activations.put([lostActivationRecord(p, Date.now(), 'The activation did not complete: its invoker stopped answering before it finished.')], {
            keepExisting: true,
          }),
        {
          initialMs: 250,
          maxMs: 2_000,
          giveUp: () => Date.now() >= giveUpAt,
          onRetry: (err, attempt) => {
            if (attempt === 0) log.warn({ err, activationId: p.activationId }, 'could not record the lost activation yet; retrying');
          },
        },
      );
    },
    sendTestActivation: async (invoker) => {
      const msg: ActivationMessage = {
        v: 1,
        transid: HEALTH_TEST_TRANSID,
        activationId: newActivationId(),
        received: Date.now(),
        deadline: Date.now() + 60_000,
        controller: id,
        blocking: false,
        user: { subject: 'whisk.system', namespace: 'whisk.system', uuid: system.uuid, apiKey: '' },
        action: { docId: `whisk.system/${testAction.name}`, rev: '', path: 'whisk.system', name: testAction.name, version: testAction.version },
        content: {},
        initArgs: [],
      };
      await lb.publishTest(invoker, msg, { memoryMB: 128, timeoutMs: testAction.limits.timeout, blackbox: false });
      return msg.activationId;
    },
  });
  await bus.subscribe(Topics.completed(id), `completed${id}`, async (m) => {
    applyAck(ackOf(m), waiter, lb);
  });
  await lb.start();
  metrics.watchInvokerPools(() => lb.poolReports());
  // Watches every invoker topic a second time, so that an activation whose controller and invoker
  // both died still gets its record (see ledger.ts); new invokers are picked up as they ping.
  const ledger = new ActivationLedger({ bus, activations: stores.activations, log, ackTimeoutMs });
  ledger.watch(lb.invokerIds());
  const ledgerWatch = setInterval(() => ledger.watch(lb.invokerIds()), 2_000);
  ledgerWatch.unref();

  const state = await openCouchStateStore(config.couchdbUrl, { prefix: config.dbPrefix });
  const directAcks: { url?: string; token: string } = { token: randomBytes(24).toString('hex') };
  const { app, ctx } = await buildApp(
    {
      directAcks,
      compositionJournal: new LedgerJournal(bus),
      entities: stores.entities,
      activations: stores.activations,
      subjects: stores.subjects,
      state,
      kinds: manifestKinds(loadManifest()),
      lb,
      waiter,
      logger: log,
      metrics,
    },
    ControllerConfigSchema.parse({
      controllerId: id,
      controllers: config.controllers,
      maxQueueMs: config.maxQueueMs,
      ...(config.adminKey !== undefined ? { adminKey: config.adminKey } : {}),
      ...controllerDefaultsFrom(config),
    }),
  );
  // Every controller caches entities; a write on one must reach the others' next read.
  ctx.cache.onLocalWrite = (docId) => {
    bus.publish(Topics.cacheInvalidation, encode({ docId, from: id })).catch((err: unknown) => log.warn({ err, docId }, 'could not publish cache invalidation'));
  };
  // Admin changes (rotation, block, delete, limits) reach the other controllers' credential caches the same way.
  ctx.auth.onLocalChange = (auth) => {
    bus.publish(Topics.cacheInvalidation, encode({ auth, from: id })).catch((err: unknown) => log.warn({ err, auth }, 'could not publish auth invalidation'));
  };
  await bus.subscribe(Topics.cacheInvalidation, `cacheInvalidation${id}`, async (m) => {
    const msg = JSON.parse(m.value.toString('utf8')) as { docId?: string; auth?: AuthInvalidation; from: string };
    if (msg.from === id) return;
    if (msg.docId !== undefined) ctx.cache.invalidateRemote(msg.docId);
    if (msg.auth !== undefined) ctx.auth.invalidateRemote(msg.auth);
  });

  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  directAcks.url = `${config.advertiseUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`}/__whirl/acks`;

  // The catalog is installed by controller 0 (idempotent; the others read it from the store).
  if (id === '0') {
    const changed = await installCatalog(ctx, { apiHost: config.apiHost });
    if (changed.length > 0) log.info({ changed }, 'system catalog installed');
  }
  // Alarms and the kafka/couchdb feeds run on the one controller holding the event-source lease in
  // CouchDB; every controller serves the feed actions and webhooks (see feeds/index.ts).
  const sources = createEventSources(ctx, state, await openCouchScheduleStore(config.couchdbUrl, { prefix: config.dbPrefix }), {
    controllerId: id,
    apiHost: config.apiHost,
    leaseTtlMs: config.feedLeaseMs,
    log,
  });
  await sources.start();
  // One sweeper per deployment is enough: controller 0 runs it.
  const retention = id === '0' ? new RetentionSweeper(stores.activations, stores.subjects, { defaultDays: config.retentionDays, intervalMs: config.retentionSweepMs, log }) : undefined;
  retention?.start();
  process.stdout.write(`controller${id} listening on http://${config.host}:${port}\n`);

  let stopping = false;
  const stop = (sig: string): void => {
    // Ctrl-C reaches the whole process group and a launcher may signal again: one stop.
    if (stopping) return;
    stopping = true;
    log.info({ sig }, 'stopping');
    // Kafka or the store may have gone first; the stop must end anyway.
    setTimeout(() => process.exit(1), 30_000).unref();
    (async () => {
      await retention?.stop();
      await sources.stop();
      await app.close();
      clearInterval(ledgerWatch);
      await ledger.close();
      await lb.stop();
      waiter.close();
      await bus.close();
      await stores.close();
    })().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** OpenWhisk's `whisk.system/invokerHealthTestAction<C>`: returns its input; 128 MB. */
async function ensureHealthTestAction(entities: EntityStore, controllerId: string): Promise<WhiskAction> {
  const name = `invokerHealthTestAction${controllerId}`;
  const doc: WhiskAction = {
    entityType: 'action',
    namespace: 'whisk.system',
    name,
    version: '0.0.1',
    publish: false,
    exec: { kind: 'nodejs:20', code: 'function main(params) { return params; }', binary: false },
    annotations: [{ key: 'exec', value: 'nodejs:20' }],
    parameters: [],
    limits: { ...defaultActionLimits(), memory: 128 },
    updated: Date.now(),
  };
  const existing = await entities.get(`whisk.system/${name}`);
  if (existing?.doc.entityType === 'action') return existing.doc;
  try {
    return (await entities.create(doc)).doc as WhiskAction;
  } catch {
    // Another controller created it first.
    const again = await entities.get(`whisk.system/${name}`);
    return (again?.doc as WhiskAction | undefined) ?? doc;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`whirl controller failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
