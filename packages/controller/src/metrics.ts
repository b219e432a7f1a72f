/**
 * The controller's Prometheus metrics and its `GET /metrics` route. Throttle refusals carry
 * OpenWhisk's user-events names (`openwhisk_action_limit_concurrent_total`,
 * `openwhisk_action_limit_timed_total`, by namespace) plus Whirl's `whirl_throttle_rejections_total`
 * by reason; HTTP and bus metrics are Whirl's own. Route labels are Fastify's route patterns, so
 * their number is bounded by the routes, not by the names users pick.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PoolReport } from './loadbalancer/sharding.js';
import {
  EDGE_HEADER,
  METRICS_CONTENT_TYPE,
  POOL_GAUGES,
  metricsRefusal,
  poolGaugeSamples,
  renderMetrics,
  type MetricsAccess,
  type MetricsRegistry,
} from '@whirl/core';

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type ThrottleReason = 'invocations_per_minute' | 'concurrent_invocations' | 'fires_per_minute';

export interface ControllerMetricsOptions {
  /** Registries rendered at /metrics; the first one receives the controller's own metrics. */
  registries: [Registry, ...MetricsRegistry[]];
  access: MetricsAccess;
  /** Consumer lag of the bus's subscriptions (distributed: Kafka), read at scrape time. */
  consumerLag?: () => Promise<{ topic: string; group: string; lag: number }[]>;
}

export class ControllerMetrics {
  private readonly httpRequests: Counter;
  private readonly httpDuration: Histogram;
  private readonly throttled: Counter;
  private readonly limitConcurrent: Counter;
  private readonly limitTimed: Counter;
  private readonly publish: Histogram;

  constructor(readonly options: ControllerMetricsOptions) {
    const registers = [options.registries[0]];
    this.httpRequests = new Counter({
      name: 'whirl_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'whirl_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.throttled = new Counter({
      name: 'whirl_throttle_rejections_total',
      help: 'Requests refused with 429, by reason: invocations_per_minute, concurrent_invocations, fires_per_minute.',
      labelNames: ['reason'],
      registers,
    });
    this.limitConcurrent = new Counter({
      name: 'openwhisk_action_limit_concurrent_total',
      help: 'Invocations refused because the namespace had too many in flight.',
      labelNames: ['namespace'],
      registers,
    });
    this.limitTimed = new Counter({
      name: 'openwhisk_action_limit_timed_total',
      help: 'Invocations and trigger fires refused by the per-minute limits.',
      labelNames: ['namespace'],
      registers,
    });
    this.publish = new Histogram({
      name: 'whirl_bus_publish_seconds',
      help: 'Time to publish a message on the bus until the broker acknowledged it, by topic and outcome.',
      labelNames: ['topic', 'outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    const lag = options.consumerLag;
    if (lag) {
      new Gauge({
        name: 'whirl_bus_consumer_lag',
        help: "Messages published on a topic that this process's consumer group has not consumed yet.",
        labelNames: ['topic', 'group'],
        registers,
        async collect() {
          this.reset();
          for (const l of await lag()) this.set({ topic: l.topic, group: l.group }, l.lag);
        },
      });
    }
  }

  throttle(reason: ThrottleReason, namespace: string): void {
    this.throttled.inc({ reason });
    if (reason === 'concurrent_invocations') this.limitConcurrent.inc({ namespace });
    else this.limitTimed.inc({ namespace });
  }

  /** Bus topics carry instance numbers (invoker3, completed0): label by topic, never by message. */
  published(topic: string, seconds: number, ok: boolean): void {
    this.publish.observe({ topic, outcome: ok ? 'ok' : 'error' }, seconds);
  }

  /**
   * Distributed: the invokers' pools as their health pings describe them, under the invokers' own
   * gauge names with `reported="health_ping"`, so that one scrape of a controller shows them all (the
   * console reads these). Dashboards summing the invokers' own series filter `reported=""`.
   */
  watchInvokerPools(source: () => { invoker: number; pool: PoolReport }[]): void {
    const registers = [this.options.registries[0]];
    const labelNames = ['invoker', 'reported'];
    const pools = () => source().map((r) => ({ labels: { invoker: String(r.invoker), reported: 'health_ping' }, pool: r.pool }));
    for (const g of POOL_GAUGES) {
      new Gauge({
        name: g.name,
        help: g.help,
        labelNames: [...labelNames, ...g.labelNames],
        registers,
        collect() {
          // An invoker gone from the reports must be gone from the scrape.
          this.reset();
          for (const { labels, value } of poolGaugeSamples(g, pools())) this.set(labels, value);
        },
      });
    }
  }

  /** Counts every answered request and serves `GET /metrics` (outside the authenticated context). */
  register(app: FastifyInstance, log: { warn(o: object, m: string): void } | undefined): void {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      const method = req.method;
      this.httpRequests.inc({ method, route, status: String(reply.statusCode) });
      this.httpDuration.observe({ method, route }, reply.elapsedTime / 1000);
    });
    const doc = {
      summary: 'Prometheus metrics of this process (text exposition format)',
      tags: ['operations'],
      auth: false,
      description: 'Open to loopback callers, or to any caller with the bearer token WHIRL_METRICS_TOKEN; never to requests through nginx without it.',
      responses: {
        200: { description: 'The metrics.', contentType: 'text/plain' },
        401: 'A token is configured and the request has none or a wrong one.',
        403: 'Not a loopback caller (or through the edge) and no token is configured.',
      },
    };
    app.get('/metrics', { config: { doc } }, async (req, reply) => {
      const refusal = metricsRefusal(this.options.access, {
        authorization: req.headers.authorization,
        viaEdge: req.headers[EDGE_HEADER] !== undefined,
        remoteAddress: req.socket.remoteAddress,
      });
      if (refusal) return reply.code(refusal.status).send({ error: refusal.error, code: req.id });
      const text = await renderMetrics(this.options.registries, (name, err) => log?.warn({ err, metric: name }, 'a metrics collector failed; left out of this scrape'));
      return reply.type(METRICS_CONTENT_TYPE).send(text);
    });
  }
}
