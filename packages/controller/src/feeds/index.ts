/**
 * The controller tier's event sources: the alarms service and the kafka and couchdb feed sources run
 * on the one controller that holds the event-source lease (see leader.ts); the feed actions and the
 * webhook URL are served by every controller, which only write registrations to the StateStore. So
 * with several controllers each feed is consumed once, and a dead leader's sources move to another
 * controller within the lease's time to live, resuming from the positions stored in the feed status.
 */
import type { ScheduleStore, StateStore } from '@whirl/core';
import type { Ctx } from '../context.js';
import { createAlarms, type AlarmService } from '../alarms/index.js';
import { couchdbFeedSpec, startCouchdbSource } from './couchdb.js';
import { kafkaFeedSpec, kafkaProduceHandler, startKafkaSource } from './kafka.js';
import { Leadership } from './leader.js';
import { feedLifecycleHandler } from './lifecycle.js';
import { FeedManager } from './manager.js';
import { webhookFeedSpec } from './webhook.js';

export { Leadership } from './leader.js';
export { FeedManager } from './manager.js';

export interface EventSourcesOptions {
  controllerId: string;
  /** Public base URL of the API (the webhook URLs are built on it). */
  apiHost: string;
  /** How long a dead leader's lease blocks the others (default 10 s). */
  leaseTtlMs?: number;
  pollMs?: number;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface EventSources {
  alarms: AlarmService;
  leadership: Leadership;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createEventSources(ctx: Ctx, state: StateStore, schedules: ScheduleStore, opts: EventSourcesOptions): EventSources {
  const log = opts.log;
  const alarms = createAlarms(ctx, schedules, log ? { log } : {});
  ctx.systemActions.register('messaging/kafkaFeed', feedLifecycleHandler(ctx, state, kafkaFeedSpec));
  ctx.systemActions.register('messaging/kafkaProduce', kafkaProduceHandler);
  ctx.systemActions.register('couchdb/changes', feedLifecycleHandler(ctx, state, couchdbFeedSpec));
  ctx.systemActions.register('webhook/webhook', feedLifecycleHandler(ctx, state, webhookFeedSpec(opts.apiHost)));
  // Assigned below: the manager's fence reads the leadership, whose callbacks drive the manager.
  let leadership: Leadership;
  const feeds = new FeedManager(
    ctx,
    state,
    { kafka: startKafkaSource, couchdb: startCouchdbSource },
    { ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}), isLeader: () => leadership.isLeader, ...(log ? { log } : {}) },
  );
  leadership = new Leadership(state, {
    holder: `controller${opts.controllerId}`,
    ...(opts.leaseTtlMs !== undefined ? { ttlMs: opts.leaseTtlMs } : {}),
    ...(log ? { log } : {}),
    onLead: async () => {
      await alarms.start();
      await feeds.start();
    },
    onLose: async () => {
      await feeds.stop();
      await alarms.stop();
    },
    onTick: () => alarms.reconcile(),
  });
  return {
    alarms,
    leadership,
    async start() {
      await leadership.start();
      const resumed = await ctx.delivery?.resume();
      if (resumed) log?.info({ resumed }, 'resumed pending retries of asynchronous invokes');
    },
    async stop() {
      await leadership.stop();
      await ctx.delivery?.stop();
    },
  };
}
