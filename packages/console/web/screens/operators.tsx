/**
 * Operators: invoker health (GET /invokers), each invoker's pool occupancy from the server's
 * GET /metrics (Prometheus gauges), and a throughput chart of the signed-in namespace's own activation
 * records (the only ones its key can list: not the platform's throughput). /metrics is not an API
 * route: it checks its own bearer token (WHIRL_METRICS_TOKEN) or the caller's address, so a refusal
 * there is shown next to the table with a field for that token, and the rest of the view keeps working.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type Activation, loadMetricsToken, saveMetricsToken, scrapeMetrics, statusCodeOf } from '../api.js';
import { fmtMemory, occupancyOf, parsePoolMetrics, type PoolOccupancy } from '../metrics.js';
import { ErrorText, Heading, useApi, usePoll } from '../ui.js';

const WINDOW_S = 600;
const BUCKET_S = 15;

function buckets(list: Activation[], nowS: number): [number[], number[], number[]] {
  const n = WINDOW_S / BUCKET_S;
  const start = Math.floor((nowS - WINDOW_S) / BUCKET_S) * BUCKET_S;
  const xs = Array.from({ length: n + 1 }, (_, i) => start + i * BUCKET_S);
  const ok = xs.map(() => 0);
  const failed = xs.map(() => 0);
  for (const a of list) {
    const i = Math.floor((a.start / 1000 - start) / BUCKET_S);
    if (i < 0 || i > n) continue;
    if (statusCodeOf(a) === 0) ok[i]! += 1;
    else failed[i]! += 1;
  }
  return [xs, ok, failed];
}

function Chart({ data, namespace }: { data: [number[], number[], number[]]; namespace: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const el = host.current!;
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 220,
      scales: { x: { time: true } },
      axes: [{}, { label: `per ${BUCKET_S} s` }],
      series: [
        {},
        { label: 'succeeded', stroke: '#1f7a3a', fill: 'rgba(31,122,58,0.15)', width: 2 },
        { label: 'failed', stroke: '#b3261e', fill: 'rgba(179,38,30,0.12)', width: 2 },
      ],
    };
    plot.current = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => plot.current?.setData(data), [data]);
  return (
    <div
      ref={host}
      class="chart"
      role="img"
      aria-label={`Activations of namespace ${namespace} per ${BUCKET_S} seconds over the last ${WINDOW_S / 60} minutes, succeeded and failed`}
    />
  );
}

type PoolsState = { pools: Map<string, PoolOccupancy> } | { refused: number; error: string } | { error: string };

/** A dash for "not known", read out as words rather than as a dash character. */
const Unknown = () => (
  <>
    <span aria-hidden="true">—</span>
    <span class="sr-only">unknown</span>
  </>
);

function Count({ n }: { n: number | undefined }) {
  return <td class="num">{n === undefined ? <Unknown /> : n}</td>;
}

/** Where the pool columns come from, or plainly why they are empty. */
function PoolNote({ pools, names }: { pools: PoolsState | undefined; names: string[] }) {
  if (pools === undefined) return <p id="pool-note" class="hint" aria-busy="true">Reading pool occupancy from /metrics…</p>;
  if ('refused' in pools) {
    return (
      <p id="pool-note" class="error" role="alert">
        Pool occupancy is not shown: /metrics answered {pools.refused} ({pools.refused === 401 ? 'a metrics token is required' : 'refused'}). {pools.error}
      </p>
    );
  }
  if (!('pools' in pools)) {
    return (
      <p id="pool-note" class="error" role="alert">
        {pools.error}
      </p>
    );
  }
  const missing = names.filter((n) => occupancyOf(pools.pools, n) === undefined);
  return (
    <p id="pool-note" class="hint">
      Pool occupancy from this server's /metrics (memory by the actions' limits, stem cells excluded; queued: activations waiting for a container).
      {missing.length > 0
        ? ` No pool gauges here for ${missing.join(', ')}: in the distributed deployment each invoker serves its own /metrics (WHIRL_METRICS_PORT).`
        : ''}
    </p>
  );
}

/** The optional WHIRL_METRICS_TOKEN, sent as a bearer token to /metrics only. */
function MetricsToken(props: { shown: boolean; token: string | undefined; onChange: (token: string | undefined) => void }) {
  const [text, setText] = useState('');
  if (!props.shown) return null;
  return (
    <form
      class="metrics-token"
      onSubmit={(e) => {
        e.preventDefault();
        const t = text.trim();
        if (t !== '') props.onChange(t);
        setText('');
      }}
    >
      <label for="metrics-token">Metrics token (optional, WHIRL_METRICS_TOKEN)</label>
      <div class="row">
        <input
          id="metrics-token"
          type="password"
          autoComplete="off"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          aria-describedby="metrics-token-hint"
        />
        <button type="submit">Use token</button>
        {props.token !== undefined ? (
          <button type="button" onClick={() => props.onChange(undefined)}>
            Forget token
          </button>
        ) : null}
      </div>
      <p id="metrics-token-hint" class="hint">
        {props.token !== undefined ? 'A token is set for this tab. ' : ''}Sent only to /metrics, as Authorization: Bearer; kept in this tab's session storage and removed on sign-out.
      </p>
    </form>
  );
}

export function OperatorsScreen() {
  const api = useApi();
  const [invokers, setInvokers] = useState<Record<string, string>>();
  const [data, setData] = useState<[number[], number[], number[]]>();
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string>();
  const [token, setToken] = useState(loadMetricsToken);
  const [pools, setPools] = useState<PoolsState>();
  usePoll(
    async () => {
      try {
        // The scrape runs beside the API calls: its failure is reported in the table, not as the view's error.
        const scrape = scrapeMetrics(token).then(
          (r): PoolsState => (r.ok ? { pools: parsePoolMetrics(r.text) } : { refused: r.status, error: r.error }),
          (e: unknown): PoolsState => ({ error: `Could not read /metrics: ${(e as Error).message}` }),
        );
        setInvokers(await api.invokers());
        const nowS = Date.now() / 1000;
        const list = await api.listActivations({ since: Date.now() - WINDOW_S * 1000, limit: 200, docs: false });
        setTotal(list.length);
        setData(buckets(list, nowS));
        setPools(await scrape);
        setError(undefined);
      } catch (e) {
        setError((e as Error).message);
      }
    },
    5000,
    [token],
  );
  const entries = Object.entries(invokers ?? {});
  return (
    <div>
      <Heading>Operators</Heading>
      <ErrorText error={error} />
      <div class="split ops">
        <section class="panel" aria-labelledby="inv-h">
          <h2 id="inv-h">Invokers</h2>
          {invokers === undefined ? (
            <p aria-busy="true">Loading…</p>
          ) : entries.length === 0 ? (
            <p>No invoker has reported yet.</p>
          ) : (
            <div class="table-wrap">
              <table aria-describedby="pool-note">
                <caption class="sr-only">Invokers, their health and their container pools</caption>
                <thead>
                  <tr>
                    <th scope="col">Invoker</th>
                    <th scope="col">Health</th>
                    <th scope="col" class="num">Warm</th>
                    <th scope="col" class="num">Paused</th>
                    <th scope="col" class="num">Stem cells</th>
                    <th scope="col" class="num">Busy</th>
                    <th scope="col" class="num">Memory used / budget</th>
                    <th scope="col" class="num">Queued</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map(([name, state]) => {
                    const p = pools && 'pools' in pools ? occupancyOf(pools.pools, name) : undefined;
                    return (
                      <tr key={name}>
                        <th scope="row">{name}</th>
                        <td>
                          <span class={`badge ${state === 'up' ? 's0' : 's3'}`}>{state}</span>
                        </td>
                        <Count n={p?.warm} />
                        <Count n={p?.paused} />
                        <Count n={p?.stemCells} />
                        <Count n={p?.busy} />
                        <td class="num">{p ? fmtMemory(p) : <Unknown />}</td>
                        <Count n={p?.queueDepth} />
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          <p class="hint">
            {entries.filter(([, s]) => s === 'up').length} of {entries.length} healthy.
          </p>
          <PoolNote pools={pools} names={entries.map(([n]) => n)} />
          <MetricsToken
            shown={token !== undefined || (pools !== undefined && 'refused' in pools)}
            token={token}
            onChange={(t) => {
              saveMetricsToken(t);
              setToken(t);
            }}
          />
        </section>
        <section class="panel" aria-labelledby="tp-h">
          <h2 id="tp-h">Throughput of namespace {api.session.namespace}</h2>
          <p class="hint">
            {total >= 200 ? 'At least 200' : total} activations of {api.session.namespace} in the last {WINDOW_S / 60} minutes
            {total >= 200 ? ' (the chart shows the newest 200)' : ''}. Only this namespace's own activations are counted, not the whole
            platform's.
          </p>
          {data ? <Chart data={data} namespace={api.session.namespace} /> : <p aria-busy="true">Loading…</p>}
        </section>
      </div>
    </div>
  );
}
