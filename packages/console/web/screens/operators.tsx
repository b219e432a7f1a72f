/**
 * Operators: invoker health (GET /invokers) and a throughput chart from the activation records this
 * key can see. Pool occupancy needs a metrics endpoint the controller does not have yet: shown n/a.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type Activation } from '../api.js';
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
    if ((a.statusCode ?? 0) === 0) ok[i]! += 1;
    else failed[i]! += 1;
  }
  return [xs, ok, failed];
}

function Chart({ data }: { data: [number[], number[], number[]] }) {
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
  return <div ref={host} class="chart" role="img" aria-label={`Activations per ${BUCKET_S} seconds over the last ${WINDOW_S / 60} minutes`} />;
}

export function OperatorsScreen() {
  const api = useApi();
  const [invokers, setInvokers] = useState<Record<string, string>>();
  const [data, setData] = useState<[number[], number[], number[]]>();
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string>();
  usePoll(
    async () => {
      try {
        setInvokers(await api.invokers());
        const nowS = Date.now() / 1000;
        const list = await api.listActivations({ since: Date.now() - WINDOW_S * 1000, limit: 200, docs: false });
        setTotal(list.length);
        setData(buckets(list, nowS));
        setError(undefined);
      } catch (e) {
        setError((e as Error).message);
      }
    },
    5000,
    [],
  );
  const entries = Object.entries(invokers ?? {});
  return (
    <div>
      <Heading>Operators</Heading>
      <ErrorText error={error} />
      <div class="split">
        <section class="panel" aria-labelledby="inv-h">
          <h2 id="inv-h">Invokers</h2>
          {invokers === undefined ? (
            <p aria-busy="true">Loading…</p>
          ) : entries.length === 0 ? (
            <p>No invoker has reported yet.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Invokers and their health</caption>
                <thead>
                  <tr>
                    <th scope="col">Invoker</th>
                    <th scope="col">Health</th>
                    <th scope="col">Pool occupancy</th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map(([name, state]) => (
                    <tr key={name}>
                      <td>{name}</td>
                      <td>
                        <span class={`badge ${state === 'up' ? 's0' : 's3'}`}>{state}</span>
                      </td>
                      <td title="needs a metrics endpoint on the controller">n/a</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <p class="hint">
            {entries.filter(([, s]) => s === 'up').length} of {entries.length} healthy. Pool occupancy is not reported by the controller yet.
          </p>
        </section>
        <section class="panel" aria-labelledby="tp-h">
          <h2 id="tp-h">Throughput</h2>
          <p class="hint">
            {total >= 200 ? 'At least 200' : total} activations of this namespace in the last {WINDOW_S / 60} minutes
            {total >= 200 ? ' (the chart shows the newest 200)' : ''}.
          </p>
          {data ? <Chart data={data} /> : <p aria-busy="true">Loading…</p>}
        </section>
      </div>
    </div>
  );
}
