#!/usr/bin/env node
/** A distributed invoker: Kafka in, CouchDB for actions and activations, Docker for containers. */
import pino from 'pino';
import { ConfigError } from '@whirl/core';
import { KafkaMessageBus } from '@whirl/messaging';
import { imageName, loadManifest, resolveKind, stemCells, ensureRuntimeImages } from '@whirl/runtimes';
import { openCouchStores } from '@whirl/store';
import { loadInvokerConfig } from './config.js';
import { DockerContainerFactory, ProcessContainerFactory } from './factory/index.js';
import { Invoker } from './invoker.js';

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
  const bus = new KafkaMessageBus({ brokers: config.kafkaBrokers.split(','), clientId: `invoker${config.id}`, prefix: config.kafkaPrefix, logger: log });
  const factory =
    config.containers === 'docker'
      ? new DockerContainerFactory({ network: config.dockerNetwork, reach: config.dockerReach, userMemoryMB: config.userMemoryMB })
      : new ProcessContainerFactory();
  if (factory instanceof DockerContainerFactory) await ensureRuntimeImages({ docker: factory.docker, manifest, onProgress: (m) => log.info(m) });
  const invoker = new Invoker(
    {
      bus,
      entities: stores.entities,
      activations: stores.activations,
      factory,
      runtimes: {
        imageFor: (kind) => {
          const e = resolveKind(kind, manifest);
          return e ? imageName(e) : undefined;
        },
        stemCells: () => stemCells(manifest),
        isNativeBlackbox: (image) => manifest.blackboxes.some((b) => imageName({ image: b }) === image),
        tagsLogLines: (kind) => kind.startsWith('nodejs:'),
      },
      log,
    },
    {
      id: String(config.id),
      owner: `${config.kafkaPrefix || config.dbPrefix}invoker${config.id}`,
      userMemoryMB: config.userMemoryMB,
      pauseGraceMs: config.pauseGraceMs,
      idleTimeoutMs: config.idleTimeoutMs,
      keepAlive: config.keepAlive,
      keepAliveBinMs: config.keepAliveBinMs,
      prewarm: config.prewarm,
      pullImages: config.pullImages,
      apiHost: config.apiHost,
      healthPingMs: 1_000,
    },
  );
  await invoker.start();
  process.stdout.write(`invoker${config.id} ready\n`);
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info({ sig }, 'draining');
    invoker
      .stop()
      .then(async () => {
        await bus.close();
        await factory.close();
        await stores.close();
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`whirl invoker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
