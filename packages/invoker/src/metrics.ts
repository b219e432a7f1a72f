/**
 * The invoker's Prometheus metrics. Activation metrics carry OpenWhisk's user-events names and labels
 * (`openwhisk_action_*`, labels namespace/initiator/action[/kind/memory/status]) so that dashboards
 * built for OpenWhisk's user-events service read them; pool and store metrics are Whirl's own
 * (`whirl_invoker_*`, `whirl_store_*`). Pool gauges are read from the pool at scrape time.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { POOL_GAUGES, annotation, poolGaugeSamples, type ActivationRecord, type PoolOccupancy } from '@whirl/core';
import { policyKeyParts } from './keepalive.js';
import type { PoolPolicySnapshot, PoolStats } from './pool.js';

/** Seconds, from 5 ms to 5 minutes (the longest action timeout). */
export const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** OpenWhisk's status label values (ActivationResponse.statusSuccess etc.), by status code. */
const STATUS = ['success', 'application_error', 'developer_error', 'internal_error'] as const;

/** The pool's stats as its gauges and health pings report them (the same shape a controller receives). */
export function poolOccupancy(s: PoolStats, budgetMB: number): PoolOccupancy {
  return { warm: s.warm, paused: s.paused, stemCells: s.prewarmed, busy: s.busy, usedMB: s.usedMB, budgetMB, queued: s.buffered };
}

/** Why an activation did not find a warm container (label `reason` of the cold-start counter). */
export type ColdStartReason = 'no_warm' | 'warm_busy' | 'stem_cell';

export class InvokerMetrics {
  private readonly activations: Counter;
  private readonly status: Counter;
  private readonly coldStarts: Counter;
  private readonly waitTime: Histogram;
  private readonly initTime: Histogram;
  private readonly duration: Histogram;
  private readonly memory: Gauge;
  private readonly storeWrite: Histogram;
  private readonly usageSamples: Counter;
  private readonly messages: Counter;
  private pool: (() => PoolStats) | undefined;
  private policy: (() => PoolPolicySnapshot) | undefined;

  constructor(
    registry: Registry,
    private readonly invokerId: string,
    private readonly userMemoryMB: number,
  ) {
    const registers = [registry];
    const actionLabels = ['namespace', 'initiator', 'action'] as const;
    this.activations = new Counter({
      name: 'openwhisk_action_activations_total',
      help: 'Activations run, by action, kind and memory limit (MB).',
      labelNames: [...actionLabels, 'kind', 'memory'],
      registers,
    });
    this.status = new Counter({
      name: 'openwhisk_action_status',
      help: 'Activations by outcome: success, application_error, developer_error, internal_error.',
      labelNames: [...actionLabels, 'status'],
      registers,
    });
    this.coldStarts = new Counter({
      name: 'openwhisk_action_coldStarts_total',
      help: 'Activations that needed /init: reason no_warm (no container of the action), warm_busy (all of them busy), stem_cell (a pre-warmed stem cell was taken).',
      labelNames: [...actionLabels, 'reason'],
      registers,
    });
    this.waitTime = new Histogram({
      name: 'openwhisk_action_waitTime_seconds',
      help: 'Time from the controller accepting the activation to its container starting it.',
      labelNames: actionLabels,
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.initTime = new Histogram({
      name: 'openwhisk_action_initTime_seconds',
      help: 'Time /init took, for activations that initialised their container.',
      labelNames: actionLabels,
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.duration = new Histogram({
      name: 'openwhisk_action_duration_seconds',
      help: 'Time the activation ran (init included when it had one), as its record says.',
      labelNames: actionLabels,
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.memory = new Gauge({
      name: 'openwhisk_action_memory',
      help: 'Memory limit of the action (MB), as of its last activation.',
      labelNames: actionLabels,
      registers,
    });
    this.storeWrite = new Histogram({
      name: 'whirl_store_write_seconds',
      help: 'Latency of activation-record batch writes to the store, by outcome.',
      labelNames: ['store', 'outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.usageSamples = new Counter({
      name: 'whirl_invoker_usage_samples_total',
      help: 'Activations whose resource usage (memory peak, cpu) was read from their container (outcome ok), or could not be (unavailable).',
      labelNames: ['invoker', 'outcome'],
      registers,
    });
    this.messages = new Counter({
      name: 'whirl_invoker_activation_messages_total',
      help: 'Activation messages taken, by channel (bus, direct) and outcome (taken; duplicate: the second copy of one that came both ways; stopped).',
      labelNames: ['invoker', 'via', 'outcome'],
      registers,
    });
    const id = this.invokerId;
    const budgetMB = this.userMemoryMB;
    const pools = (): { labels: Record<string, string>; pool: PoolOccupancy }[] => {
      const s = this.pool?.();
      return s ? [{ labels: { invoker: id }, pool: poolOccupancy(s, budgetMB) }] : [];
    };
    for (const g of POOL_GAUGES) {
      new Gauge({
        name: g.name,
        help: g.help,
        labelNames: ['invoker', ...g.labelNames],
        registers,
        collect() {
          for (const { labels, value } of poolGaugeSamples(g, pools())) this.set(labels, value);
        },
      });
    }
    // The keep-alive policy's windows per action (issue: decisions must be visible). Reset at each
    // scrape, so an action the policy has forgotten leaves the series; bounded by its maxActions.
    const policy = (): PoolPolicySnapshot | undefined => this.policy?.();
    new Gauge({
      name: 'whirl_keepalive_window_seconds',
      help: 'Keep-alive windows the policy chose at the action\'s last end: window prewarm (unloaded this long, then loaded again; 0 = kept loaded) and keepalive (then kept this long), with the rule that chose them (fixed, fallback, histogram, forecast).',
      labelNames: ['invoker', 'namespace', 'action', 'window', 'rule'],
      registers,
      collect() {
        this.reset();
        for (const a of policy()?.actions ?? []) {
          const at = { invoker: id, ...policyKeyParts(a.action), rule: a.decision.rule };
          this.set({ ...at, window: 'prewarm' }, (a.decision.prewarmAfterMs ?? 0) / 1000);
          this.set({ ...at, window: 'keepalive' }, a.decision.keepAliveMs / 1000);
        }
      },
    });
    new Gauge({
      name: 'whirl_keepalive_lead_seconds',
      help: 'How early a load ahead of a call starts: the measured load time (create + /init), mean plus four mean deviations.',
      labelNames: ['invoker'],
      registers,
      collect() {
        const s = policy();
        if (s) this.set({ invoker: id }, s.leadMs / 1000);
      },
    });
  }

  /** The pool whose occupancy the gauges report (the pool is made after the metrics). */
  watch(pool: () => PoolStats, policy?: () => PoolPolicySnapshot): void {
    this.pool = pool;
    this.policy = policy;
  }

  /** One stored activation record. */
  activation(r: ActivationRecord): void {
    const path = annotation(r.annotations, 'path');
    const [ns, ...rest] = (typeof path === 'string' ? path : `${r.namespace}/${r.name}`).split('/');
    const labels = { namespace: ns ?? r.namespace, initiator: r.namespace, action: rest.join('/') || r.name };
    const kind = annotation(r.annotations, 'kind');
    const limits = annotation(r.annotations, 'limits') as { memory?: number } | undefined;
    const memory = limits?.memory;
    this.activations.inc({ ...labels, kind: typeof kind === 'string' ? kind : 'unknown', memory: memory === undefined ? 'unknown' : String(memory) });
    this.status.inc({ ...labels, status: STATUS[r.response.statusCode] ?? 'internal_error' });
    const wait = annotation(r.annotations, 'waitTime');
    if (typeof wait === 'number') this.waitTime.observe(labels, wait / 1000);
    const init = annotation(r.annotations, 'initTime');
    if (typeof init === 'number') this.initTime.observe(labels, init / 1000);
    this.duration.observe(labels, (r.duration ?? r.end - r.start) / 1000);
    if (memory !== undefined) this.memory.set(labels, memory);
  }

  coldStart(r: Pick<ActivationRecord, 'namespace' | 'name' | 'annotations'>, reason: ColdStartReason): void {
    const path = annotation(r.annotations, 'path');
    const [ns, ...rest] = (typeof path === 'string' ? path : `${r.namespace}/${r.name}`).split('/');
    this.coldStarts.inc({ namespace: ns ?? r.namespace, initiator: r.namespace, action: rest.join('/') || r.name, reason });
  }

  storeWritten(seconds: number, ok: boolean): void {
    this.storeWrite.observe({ store: 'activations', outcome: ok ? 'ok' : 'error' }, seconds);
  }

  usageSampled(ok: boolean): void {
    this.usageSamples.inc({ invoker: this.invokerId, outcome: ok ? 'ok' : 'unavailable' });
  }

  messageTaken(via: 'bus' | 'direct', outcome: 'taken' | 'duplicate' | 'stopped'): void {
    this.messages.inc({ invoker: this.invokerId, via, outcome });
  }
}
