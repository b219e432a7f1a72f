/**
 * Reading pool occupancy out of GET /metrics (Prometheus text format). Pure, so unit tests run it in
 * Node. Only the invoker pool gauges are read; everything else in the scrape is skipped.
 */

export interface PoolOccupancy {
  warm?: number;
  paused?: number;
  stemCells?: number;
  busy?: number;
  memoryUsedBytes?: number;
  memoryBudgetBytes?: number;
  queueDepth?: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const STATES: Record<string, keyof PoolOccupancy> = { warm: 'warm', paused: 'paused', stem_cell: 'stemCells', busy: 'busy' };

function labels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (text ?? '').matchAll(LABEL)) out[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
  return out;
}

/** Occupancy by the gauges' `invoker` label (the invoker's id, e.g. "0" for invoker0). */
export function parsePoolMetrics(text: string): Map<string, PoolOccupancy> {
  const pools = new Map<string, PoolOccupancy>();
  const of = (id: string): PoolOccupancy => {
    let p = pools.get(id);
    if (!p) pools.set(id, (p = {}));
    return p;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const [, name, labelText, valueText] = m;
    if (!name!.startsWith('whirl_invoker_')) continue;
    const value = Number(valueText);
    if (!Number.isFinite(value)) continue;
    const l = labels(labelText);
    if (l.invoker === undefined) continue;
    const p = of(l.invoker);
    if (name === 'whirl_invoker_containers') {
      const field = STATES[l.state ?? ''];
      if (field) p[field] = value;
    } else if (name === 'whirl_invoker_memory_used_bytes') p.memoryUsedBytes = value;
    else if (name === 'whirl_invoker_memory_budget_bytes') p.memoryBudgetBytes = value;
    else if (name === 'whirl_invoker_queue_depth') p.queueDepth = value;
  }
  return pools;
}

/** The occupancy of the invoker /invokers calls `name` ("invoker0"), whose gauges say invoker="0". */
export function occupancyOf(pools: Map<string, PoolOccupancy>, name: string): PoolOccupancy | undefined {
  return pools.get(name) ?? pools.get(name.replace(/^invoker/, ''));
}

const mb = (bytes: number | undefined): string => (bytes === undefined ? '—' : String(Math.round(bytes / (1024 * 1024))));

/** "256 of 2048 MB": the pool's memory in use next to its budget. */
export const fmtMemory = (p: PoolOccupancy): string => `${mb(p.memoryUsedBytes)} of ${mb(p.memoryBudgetBytes)} MB`;
