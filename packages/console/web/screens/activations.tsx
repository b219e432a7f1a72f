/** Activations: a live timeline (polled, newest first) with filters, and one activation's detail. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { annotation, findActivations, isCold, statusCodeOf, statusName, STATUS_NAMES, type Activation, type FoundActivations } from '../api.js';
import { ErrorText, fmtMs, fmtTime, go, Heading, href, Json, Logs, useApi, usePoll } from '../ui.js';

export function ActivationsScreen({ rest }: { rest: string[] }) {
  const [id, name] = rest;
  // #/activations/by/NAME is the timeline filtered to one action; #/activations/ID one activation.
  if (id === 'by') return <Timeline key={name} initialName={name ?? ''} />;
  if (id) return <ActivationDetail key={id} id={id} />;
  return <Timeline initialName="" />;
}

const POLL_MS = 2000;
// The timeline shows at most LIMIT activations. A status filter looks through at most
// LIMIT * STATUS_PAGES of the newest ones for them (and says so when it stopped there).
const LIMIT = 50;
const STATUS_PAGES = 4;

function Timeline({ initialName }: { initialName: string }) {
  const api = useApi();
  const [name, setName] = useState(initialName);
  const [applied, setApplied] = useState(initialName);
  const [status, setStatus] = useState('');
  const [found, setFound] = useState<FoundActivations<Activation> & { status: string }>();
  const [error, setError] = useState<string>();
  const [live, setLive] = useState(true);
  // What `found` was fetched for: with Live off, a new filter still fetches once.
  const fetchedFor = useRef<string | undefined>(undefined);

  usePoll(
    async () => {
      const key = JSON.stringify([applied, status]);
      if (!live && fetchedFor.current === key) return;
      try {
        const code = status === '' ? undefined : Number(status);
        const result = await findActivations(
          (skip, limit) => api.listActivations({ name: applied || undefined, limit, skip }),
          (a) => code === undefined || statusCodeOf(a) === code,
          { want: LIMIT, pageSize: LIMIT, maxPages: code === undefined ? 1 : STATUS_PAGES },
        );
        fetchedFor.current = key;
        setFound({ ...result, status });
        setError(undefined);
      } catch (e) {
        setError((e as Error).message);
      }
    },
    POLL_MS,
    [applied, status, live],
  );

  // Until the new status's fetch is back, the old list is narrowed here, so a change shows at once.
  const code = status === '' ? undefined : Number(status);
  const items = found?.items.filter((a) => code === undefined || statusCodeOf(a) === code);
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
            {STATUS_NAMES.map((s, i) => (
              <option key={s} value={String(i)}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorText error={error} />
      {items === undefined || found === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : (
        <>
          <p class="hint scope" id="timeline-scope">
            {scopeText(items.length, found.status === status ? found : undefined, applied, code === undefined ? undefined : STATUS_NAMES[code])}
          </p>
          {items.length === 0 ? (
            <p>No activations{applied || status ? ' match the filter' : ' yet'}.</p>
          ) : (
            <ol class="timeline" aria-label="Activations, newest first" aria-describedby="timeline-scope">
              {items.map((a) => (
                <li key={a.activationId} class={`act s${statusCodeOf(a)}`}>
                  <a href={href('activations', a.activationId)}>
                    <span class="name">{a.name}</span>
                    <span class={`badge s${statusCodeOf(a)}`}>{statusName(a)}</span>
                    <StartBadge a={a} />
                    <time class="when" dateTime={new Date(a.start).toISOString()}>
                      {fmtTime(a.start)}
                    </time>
                    <span class="dur">{fmtMs(a.duration)}</span>
                    <span class="id">{a.activationId}</span>
                  </a>
                  {a.logs && a.logs.length > 0 ? <pre class="log-peek">{a.logs.slice(-3).join('\n')}</pre> : null}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

/** What the list is out of: the newest LIMIT, or the matches among how many of the newest. */
function scopeText(shown: number, found: FoundActivations | undefined, name: string, status: string | undefined): string {
  const of = name ? ` of ${name}` : '';
  const acts = (n: number) => (n === 1 ? 'activation' : 'activations');
  if (!found) return 'Updating…';
  if (status === undefined) {
    return shown >= LIMIT ? `The ${LIMIT} newest activations${of}; older ones are not listed.` : `All ${shown} ${acts(shown)}${of}, newest first.`;
  }
  if (shown >= LIMIT) return `The ${LIMIT} newest ${status} activations${of}; older ones are not listed.`;
  if (found.complete) return `${shown} ${status} ${acts(shown)}${of}, out of all ${found.scanned}.`;
  return `${shown} ${status} ${acts(shown)}${of} among the ${found.scanned} newest; older ones were not searched.`;
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
          <span class={`badge s${statusCodeOf(a)}`}>{statusName(a)}</span> <StartBadge a={a} />
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
