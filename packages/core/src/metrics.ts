/**
 * What every process's `GET /metrics` shares: rendering registries so that one failing collector
 * costs only its own lines, and the access rule for the endpoint. Typed structurally, so core keeps
 * no dependency on prom-client (the processes bring it).
 */
import { timingSafeEqual } from 'node:crypto';

/** The part of a prom-client `Registry` the renderer needs. */
export interface MetricsRegistry {
  getMetricsAsArray(): readonly { name: string }[];
  getSingleMetricAsString(name: string): Promise<string>;
}

/** Prometheus text exposition format 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Renders every metric of every registry, one at a time: a collector that throws (a store or broker
 * that does not answer, a bug) is reported to `onError` and left out, and the scrape still succeeds
 * with everything else.
 */
export async function renderMetrics(registries: readonly MetricsRegistry[], onError: (name: string, err: unknown) => void): Promise<string> {
  const parts: string[] = [];
  for (const registry of registries) {
    for (const { name } of registry.getMetricsAsArray()) {
      try {
        parts.push(await registry.getSingleMetricAsString(name));
      } catch (err) {
        onError(name, err);
      }
    }
  }
  return parts.filter((p) => p !== '').join('\n') + '\n';
}

export interface MetricsAccess {
  /** When set, every scrape must send `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Without a token: serve only peers on the loopback interface (standalone bound to a public address). */
  loopbackOnly?: boolean;
}

export interface MetricsRequest {
  authorization?: string | undefined;
  /** Set (by nginx) on requests that came in from outside through the edge. */
  viaEdge: boolean;
  remoteAddress?: string | undefined;
}

/**
 * Who may scrape: with a token, whoever sends it; without one, internal callers only (never through
 * the edge, and only loopback peers when `loopbackOnly`). Returns why not, or undefined when allowed.
 */
export function metricsRefusal(access: MetricsAccess, req: MetricsRequest): { status: 401 | 403; error: string } | undefined {
  if (access.token) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.authorization ?? '');
    const given = Buffer.from(m?.[1] ?? '');
    const expected = Buffer.from(access.token);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return undefined;
    return { status: 401, error: 'The metrics endpoint requires the bearer token set in WHIRL_METRICS_TOKEN (Authorization: Bearer <token>).' };
  }
  if (req.viaEdge) {
    return { status: 403, error: 'The metrics endpoint is internal; scrape the processes directly, or set WHIRL_METRICS_TOKEN to open it through the edge.' };
  }
  if (access.loopbackOnly && !isLoopback(req.remoteAddress)) {
    return { status: 403, error: 'The metrics endpoint answers only on this machine; set WHIRL_METRICS_TOKEN to scrape it from elsewhere.' };
  }
  return undefined;
}

function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

/** The header nginx sets on every request it proxies (the value is ignored; clients cannot unset it). */
export const EDGE_HEADER = 'x-whirl-edge';

/** An invoker pool's occupancy: what its gauges show, and what its health pings carry to the controllers. */
export interface PoolOccupancy {
  warm: number;
  paused: number;
  stemCells: number;
  busy: number;
  usedMB: number;
  budgetMB: number;
  queued: number;
}

/** One pool gauge: its name and help, the label it adds (if any), and its samples for one pool. */
export interface PoolGauge {
  name: string;
  help: string;
  labelNames: readonly string[];
  samples(p: PoolOccupancy): { labels?: Record<string, string>; value: number }[];
}

const MiB = 1024 * 1024;

/**
 * The pool gauges. An invoker exports them for its own pool (labels `invoker`); a distributed
 * controller exports them for every invoker from its last health ping (labels `invoker`,
 * `reported="health_ping"`), so that one scrape shows them all. The names are what the console and
 * deploy/grafana query: never rename one.
 */
export const POOL_GAUGES: readonly PoolGauge[] = [
  {
    name: 'whirl_invoker_queue_depth',
    help: 'Activations waiting in the invoker for a container.',
    labelNames: [],
    samples: (p) => [{ value: p.queued }],
  },
  {
    name: 'whirl_invoker_containers',
    help: 'Containers in the pool by state: warm (idle, initialised), paused, stem_cell (pre-warmed), busy (running or starting).',
    labelNames: ['state'],
    samples: (p) => [
      { labels: { state: 'warm' }, value: p.warm },
      { labels: { state: 'paused' }, value: p.paused },
      { labels: { state: 'stem_cell' }, value: p.stemCells },
      { labels: { state: 'busy' }, value: p.busy },
    ],
  },
  {
    name: 'whirl_invoker_memory_used_bytes',
    help: "Memory of the pool's containers (by their actions' limits), stem cells excluded.",
    labelNames: [],
    samples: (p) => [{ value: p.usedMB * MiB }],
  },
  {
    name: 'whirl_invoker_memory_budget_bytes',
    help: 'Memory budget of the pool (WHIRL_USER_MEMORY_MB).',
    labelNames: [],
    samples: (p) => [{ value: p.budgetMB * MiB }],
  },
];

/** The samples of one gauge over several pools, each pool's own labels (`invoker`, …) merged into its samples'. */
export function poolGaugeSamples(g: PoolGauge, pools: readonly { labels: Record<string, string>; pool: PoolOccupancy }[]): { labels: Record<string, string>; value: number }[] {
  return pools.flatMap(({ labels, pool }) => g.samples(pool).map((s) => ({ labels: { ...labels, ...s.labels }, value: s.value })));
}
