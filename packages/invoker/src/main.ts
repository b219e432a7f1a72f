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
      owner: `${config.kafkaPrefix || config.dbPrefix}invoker${config.id}`, // = `owner` below
      userMemoryMB: config.userMemoryMB,
      pauseGraceMs: config.pauseGraceMs,
      idleTimeoutMs: config.idleTimeoutMs,
      prewarm: config.prewarm,
      pullImages: config.pullImages,
      apiHost: config.apiHost,
      healthPingMs: 1_000,
    },
  );
  await invoker.start();
  process.stdout.write(`invoker${config.id} ready\n`);
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
    invoker
      .stop()
      .then(async () => {
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
}

main().catch((err: unknown) => {
  process.stderr.write(`whirl invoker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
