#!/usr/bin/env node
/** A distributed invoker: Kafka in, CouchDB for actions and activations, Docker for containers. */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import pino from 'pino';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigError } from '@whirl/core';
import { KafkaMessageBus } from '@whirl/messaging';
import { loadManifest, ensureRuntimeImages } from '@whirl/runtimes';
import { openCouchStores } from '@whirl/store';
import { loadInvokerConfig, poolOptionsFrom } from './config.js';
import { DockerContainerFactory, ProcessContainerFactory } from './factory/index.js';
import { Invoker } from './invoker.js';
import { manifestRuntimeImages } from './runtime-images.js';
import { serveInvoker } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadInvokerConfig(process.env);
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const log = pino({ level: config.logLevel, base: { invoker: config.id } }, pino.destination(2));
  const manifest = loadManifest();
  const stores = await openCouchStores(config.couchdbUrl, { prefix: config.dbPrefix });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const publish = new Histogram({
    name: 'whirl_bus_publish_seconds',
    help: 'Time to publish a message on the bus until the broker acknowledged it, by topic and outcome.',
    labelNames: ['topic', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const bus = new KafkaMessageBus({
    brokers: config.kafkaBrokers.split(','),
    clientId: `invoker${config.id}`,
    prefix: config.kafkaPrefix,
    logger: log,
    onPublish: (topic, seconds, ok) => publish.observe({ topic, outcome: ok ? 'ok' : 'error' }, seconds),
  });
  new Gauge({
    name: 'whirl_bus_consumer_lag',
    help: "Messages published on a topic that this process's consumer group has not consumed yet.",
    labelNames: ['topic', 'group'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const l of await bus.consumerLag()) this.set({ topic: l.topic, group: l.group }, l.lag);
    },
  });
  const factory =
    config.containers === 'docker'
      ? new DockerContainerFactory({
          network: config.dockerNetwork,
          reach: config.dockerReach,
          userMemoryMB: config.userMemoryMB,
          stateDir: config.stateDir,
          logFiles: true,
        })
      : new ProcessContainerFactory({ stateDir: config.stateDir, logFiles: true });
  if (factory instanceof DockerContainerFactory) await ensureRuntimeImages({ docker: factory.docker, manifest, onProgress: (m) => log.info(m) });
  // The server comes first: its port goes into the direct channel's address the pings advertise.
  const directToken = randomBytes(24).toString('hex');
  let invoker: Invoker | undefined;
  const server: http.Server = await serveInvoker({
    registry,
    port: config.metricsPort,
    host: config.metricsHost,
    metricsToken: config.metricsToken,
    directToken,
    accept: (msg, via) => invoker?.accept(msg, via) ?? 'stopped',
    log,
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.metricsPort;
  const localUrl = `http://${config.metricsHost === '0.0.0.0' ? '127.0.0.1' : config.metricsHost}:${port}`;
  invoker = new Invoker(
    {
      bus,
      entities: stores.entities,
      activations: stores.activations,
      factory,
      runtimes: manifestRuntimeImages(manifest),
      log,
      metrics: registry,
    },
    {
      id: String(config.id),
      owner: `${config.kafkaPrefix || config.dbPrefix}invoker${config.id}`, // = `owner` below
      ...poolOptionsFrom(config),
      apiHost: config.apiHost,
      healthPingMs: 1_000,
      direct: { url: `${config.advertiseUrl ?? localUrl}/__whirl/activations`, token: directToken },
    },
  );
  const running = invoker;
  await running.start();
  const metricsServer = server;
  let stopping = false;
  const owner = `${config.kafkaPrefix || config.dbPrefix}invoker${config.id}`;
  const forceExit = (): void => {
    void factory.removeAll('whirl.owner', owner).finally(() => process.exit(1));
  };
  const stop = (sig: string): void => {
    // Ctrl-C reaches the whole process group and a launcher may signal again: one stop, whatever comes.
    if (stopping) return;
    stopping = true;
    log.info({ sig }, 'draining');
    setTimeout(forceExit, 60_000).unref();
    running
      .stop()
      .then(async () => {
        await new Promise((r) => metricsServer.close(r));
        // Kafka or the store may be gone already; the containers are removed by now.
        await Promise.race([Promise.allSettled([bus.close(), factory.close(), stores.close()]), new Promise((r) => setTimeout(r, 5_000).unref())]);
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'error while stopping');
        forceExit();
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Announced only once a signal finds the handlers above: a launcher that stops us on seeing this line
  // must get a drain, not the default action.
  process.stdout.write(`invoker${config.id} ready (metrics ${localUrl}/metrics)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`whirl invoker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
