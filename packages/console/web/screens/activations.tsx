/** Activations: a live timeline (polled, newest first) with filters, and one activation's detail. */
import { useEffect, useState } from 'preact/hooks';
import { annotation, isCold, statusName, STATUS_NAMES, type Activation } from '../api.js';
import { ErrorText, fmtMs, fmtTime, go, Heading, href, Json, Logs, useApi, usePoll } from '../ui.js';

export function ActivationsScreen({ rest }: { rest: string[] }) {
  const [id, name] = rest;
  // #/activations/by/NAME is the timeline filtered to one action; #/activations/ID one activation.
  if (id === 'by') return <Timeline key={name} initialName={name ?? ''} />;
  if (id) return <ActivationDetail key={id} id={id} />;
  return <Timeline initialName="" />;
}

const POLL_MS = 2000;

function Timeline({ initialName }: { initialName: string }) {
  const api = useApi();
  const [name, setName] = useState(initialName);
  const [applied, setApplied] = useState(initialName);
  const [status, setStatus] = useState('');
  const [items, setItems] = useState<Activation[]>();
  const [error, setError] = useState<string>();
  const [live, setLive] = useState(true);

  usePoll(
    async () => {
      if (!live && items) return;
      try {
        const list = await api.listActivations({ name: applied || undefined, limit: 50 });
        setItems(list.sort((a, b) => b.start - a.start));
        setError(undefined);
      } catch (e) {
        setError((e as Error).message);
      }
    },
    POLL_MS,
    [applied, live],
  );

  const shown = (items ?? []).filter((a) => status === '' || statusName(a) === status);
  return (
    <section>
      <div class="bar">
        <Heading>Activations</Heading>
        <label class="switch">
          <input type="checkbox" role="switch" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} />
          Live (every {POLL_MS / 1000} s)
        </label>
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Filter activations"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(name.trim());
        }}
      >
        <label>
          Action name
          <input name="filter-name" value={name} placeholder="any" onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Status
          <select name="filter-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            {STATUS_NAMES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorText error={error} />
      {items === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : shown.length === 0 ? (
        <p>No activations{applied || status ? ' match the filter' : ' yet'}.</p>
      ) : (
        <ol class="timeline" aria-label="Activations, newest first">
          {shown.map((a) => (
            <li key={a.activationId} class={`act s${a.statusCode ?? 0}`}>
              <a href={href('activations', a.activationId)}>
                <span class="name">{a.name}</span>
                <span class={`badge s${a.statusCode ?? 0}`}>{statusName(a)}</span>
                <StartBadge a={a} />
                <span class="when">{fmtTime(a.start)}</span>
                <span class="dur">{fmtMs(a.duration)}</span>
                <span class="id">{a.activationId}</span>
              </a>
              {a.logs && a.logs.length > 0 ? <pre class="log-peek">{a.logs.slice(-3).join('\n')}</pre> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** Cold or warm, for activations that ran in a container (trigger and sequence records did not). */
function kindOfStart(a: Activation): string | undefined {
  if (isCold(a)) return 'cold';
  const kind = annotation(a.annotations, 'kind');
  return typeof kind === 'string' && kind !== 'sequence' ? 'warm' : undefined;
}

function StartBadge({ a }: { a: Activation }) {
  const k = kindOfStart(a);
  return k ? <span class={`badge ${k}`}>{k}</span> : null;
}

export function ActivationSummary({ a }: { a: Activation }) {
  const wait = annotation(a.annotations, 'waitTime');
  const init = annotation(a.annotations, 'initTime');
  return (
    <dl class="facts">
      <div>
        <dt>Activation</dt>
        <dd>
          <a href={href('activations', a.activationId)}>{a.activationId}</a>
        </dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          <span class={`badge s${a.statusCode ?? 0}`}>{statusName(a)}</span> <StartBadge a={a} />
        </dd>
      </div>
      <div>
        <dt>Wait</dt>
        <dd>{fmtMs(typeof wait === 'number' ? wait : undefined)}</dd>
      </div>
      <div>
        <dt>Init</dt>
        <dd>{fmtMs(typeof init === 'number' ? init : undefined)}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>{fmtMs(a.duration)}</dd>
      </div>
    </dl>
  );
}

function ActivationDetail({ id }: { id: string }) {
  const api = useApi();
  const [a, setA] = useState<Activation>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.getActivation(id).then(setA, (e: Error) => setError(e.message));
  }, [id]);
  return (
    <section>
      <div class="bar">
        <Heading>Activation {a ? a.name : ''}</Heading>
        <a href={href('activations')}>Timeline</a>
      </div>
      <ErrorText error={error} />
      {!a ? (
        !error ? <p aria-busy="true">Loading…</p> : null
      ) : (
        <>
          <ActivationSummary a={a} />
          <dl class="facts">
            <div>
              <dt>Action</dt>
              <dd>
                <a href={href('actions', String(annotation(a.annotations, 'path') ?? a.name).split('/').slice(1).join('/') || a.name)}>
                  {a.namespace}/{a.name}
                </a>{' '}
                {a.version}
              </dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>{fmtTime(a.start)}</dd>
            </div>
            {a.cause ? (
              <div>
                <dt>Cause</dt>
                <dd>
                  <a href={href('activations', a.cause)}>{a.cause}</a>
                </dd>
              </div>
            ) : null}
          </dl>
          <div class="split">
            <div>
              <h2>Result</h2>
              <Json value={a.response?.result} label="Result" />
              <h2>Logs</h2>
              <Logs lines={a.logs} />
            </div>
            <div>
              <h2 id="ann-h">Annotations</h2>
              <div class="table-wrap">
                <table aria-labelledby="ann-h">
                  <tbody>
                    {(a.annotations ?? []).map((kv) => (
                      <tr key={kv.key}>
                        <th scope="row">{kv.key}</th>
                        <td class="kv">{typeof kv.value === 'string' ? kv.value : JSON.stringify(kv.value)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          </div>
          <p>
            <button type="button" onClick={() => go('actions', String(annotation(a.annotations, 'path') ?? a.name).split('/').slice(1).join('/') || a.name)}>
              Open the action
            </button>
          </p>
        </>
      )}
    </section>
  );
}
