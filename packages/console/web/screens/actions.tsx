/** Actions: the list, the editor (create/edit), invoke, delete, and a sequence's steps. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { annotation, ApiError, type Api, fromKeyValues, parseJsonObject, request, toKeyValues, type Action, type Activation, type KeyValue } from '../api.js';
import { CodeEditor } from '../editor.js';
import { ConfirmButton, ErrorText, fmtMs, go, Heading, href, Json, Logs, useApi } from '../ui.js';
import { ActivationSummary } from './activations.js';

export function ActionsScreen({ rest }: { rest: string[] }) {
  const [name] = rest;
  if (!name) return <ActionList />;
  if (name === 'new') return <ActionPage key="new" />;
  return <ActionPage key={name} name={name} />;
}

const kindOf = (a: Action): string => a.exec?.kind ?? String(annotation(a.annotations, 'exec') ?? '—');

function ActionList() {
  const api = useApi();
  const [actions, setActions] = useState<Action[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.listActions().then(setActions, (e: Error) => setError(e.message));
  }, []);
  return (
    <section aria-labelledby="actions-h">
      <div class="bar">
        <Heading>
          <span id="actions-h">Actions</span>
        </Heading>
        <a class="button primary" href={href('actions', 'new')}>
          New action
        </a>
      </div>
      <ErrorText error={error} />
      {actions === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : actions.length === 0 ? (
        <p>No actions yet. Create one with “New action”.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Actions in this namespace</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Version</th>
                <th scope="col">Memory</th>
                <th scope="col">Timeout</th>
                <th scope="col">Web</th>
              </tr>
            </thead>
            <tbody>
              {actions.map((a) => {
                const full = qualified(a);
                return (
                  <tr key={full}>
                    <td>
                      <a href={href('actions', full)}>{full}</a>
                    </td>
                    <td>{kindOf(a)}</td>
                    <td>{a.version}</td>
                    <td>{a.limits?.memory !== undefined ? `${a.limits.memory} MB` : '—'}</td>
                    <td>{fmtMs(a.limits?.timeout)}</td>
                    <td>{isWeb(a.annotations) ? 'yes' : 'no'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** `pkg/name` for an action inside a package of this namespace, else `name`. */
function qualified(a: Action): string {
  const parts = a.namespace.split('/');
  return parts.length > 1 ? `${parts.slice(1).join('/')}/${a.name}` : a.name;
}

const isWeb = (annotations: KeyValue[] | undefined): boolean => {
  const v = annotation(annotations, 'web-export');
  return v === true || v === 'true' || v === 'yes';
};

interface Form {
  name: string;
  kind: string;
  code: string;
  main: string;
  components: string;
  memory: string;
  timeout: string;
  params: string;
  web: boolean;
}

const SAMPLE = {
  js: 'function main(params) {\n  console.log("hello from the console");\n  return { greeting: `hello ${params.name ?? "world"}` };\n}\n',
  py: 'def main(args):\n    print("hello from the console")\n    return {"greeting": "hello " + args.get("name", "world")}\n',
};

function useKinds(): string[] {
  const [kinds, setKinds] = useState<string[]>(['nodejs:default', 'python:default', 'sequence']);
  useEffect(() => {
    void request(undefined, 'GET', '/').then(({ body }) => {
      const runtimes = (body as { runtimes?: Record<string, { kind: string; deprecated?: boolean }[]> } | undefined)?.runtimes;
      if (!runtimes) return;
      const list = Object.values(runtimes)
        .flat()
        .filter((r) => !r.deprecated && r.kind !== 'blackbox')
        .map((r) => r.kind);
      setKinds([...new Set(['nodejs:default', ...list, 'python:default', 'sequence'])]);
    });
  }, []);
  return kinds;
}

function formOf(a: Action | undefined): Form {
  if (!a) return { name: '', kind: 'nodejs:default', code: SAMPLE.js, main: '', components: '', memory: '256', timeout: '60000', params: '{}', web: false };
  return {
    name: qualified(a),
    kind: a.exec.kind,
    code: a.exec.binary ? '' : (a.exec.code ?? ''),
    main: a.exec.main ?? '',
    components: (a.exec.components ?? []).join(', '),
    memory: String(a.limits?.memory ?? 256),
    timeout: String(a.limits?.timeout ?? 60000),
    // A sequence keeps its steps in an `_actions` parameter too (as OpenWhisk does); the steps field edits them.
    params: JSON.stringify(fromKeyValues(a.parameters?.filter((p) => !(a.exec.kind === 'sequence' && p.key === '_actions'))), null, 2),
    web: isWeb(a.annotations),
  };
}

function ActionPage({ name }: { name?: string }) {
  const api = useApi();
  const [action, setAction] = useState<Action>();
  const [error, setError] = useState<string>();
  const [reload, setReload] = useState(0);
  useEffect(() => {
    if (name) api.getAction(name).then(setAction, (e: Error) => setError(e.message));
  }, [name, reload]);
  if (name && !action) {
    return (
      <section>
        <Heading>{name}</Heading>
        <ErrorText error={error} />
        {!error ? <p aria-busy="true">Loading…</p> : null}
      </section>
    );
  }
  return (
    <div>
      <div class="bar">
        <Heading>{name ? `Action ${name}` : 'New action'}</Heading>
        <a href={href('actions')}>All actions</a>
        {name ? (
          <a href={href('activations', 'by', name)} class="muted">
            Its activations
          </a>
        ) : null}
      </div>
      <div class="split">
        <ActionEditor action={action} onSaved={(saved) => (name ? (setAction(saved), setReload((n) => n + 1)) : go('actions', qualified(saved)))} />
        {name && action ? <InvokePanel action={action} name={name} /> : null}
      </div>
    </div>
  );
}

function ActionEditor({ action, onSaved }: { action: Action | undefined; onSaved: (a: Action) => void }) {
  const api = useApi();
  const kinds = useKinds();
  const [form, setForm] = useState<Form>(() => formOf(action));
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [reset, setReset] = useState(0);
  // Reset the form when another version of the action is shown, not on mount: the state above already
  // holds it, and an effect that ran after the first paint would wipe what was typed meanwhile.
  const shownVersion = useRef(action?.version);
  useEffect(() => {
    if (shownVersion.current === action?.version) return;
    shownVersion.current = action?.version;
    setForm(formOf(action));
    setReset((n) => n + 1);
  }, [action?.version]);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => ({ ...f, [k]: v }));
  const isSeq = form.kind === 'sequence';
  const binary = Boolean(action?.exec.binary);

  const submit = async (e: Event) => {
    e.preventDefault();
    setSaved(undefined);
    const name = form.name.trim();
    if (!/^[A-Za-z0-9_@.-][\w@ .-]*(\/[A-Za-z0-9_@.-][\w@ .-]*)?$/.test(name)) return setError('Name the action with letters, digits, _ @ . - (and one / after a package name).');
    const params = parseJsonObject(form.params, 'Parameters');
    if ('error' in params) return setError(params.error);
    const memory = Number(form.memory);
    const timeout = Number(form.timeout);
    if (!Number.isInteger(memory) || memory <= 0) return setError('Memory must be a whole number of megabytes.');
    if (!Number.isInteger(timeout) || timeout <= 0) return setError('Timeout must be a whole number of milliseconds.');
    let exec: Record<string, unknown>;
    if (isSeq) {
      const components = form.components
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((c) => (c.startsWith('/') ? c : `/${api.session.namespace}/${c}`));
      if (components.length === 0) return setError('A sequence needs at least one step: list action names, separated by commas.');
      exec = { kind: 'sequence', components };
    } else if (binary && form.code === '') {
      // Keep the uploaded archive: send the stored exec back unchanged.
      exec = (await api.getAction(name)).exec;
    } else {
      if (form.code.trim() === '') return setError('The code is empty; write a main function.');
      exec = { kind: form.kind, code: form.code, ...(form.main.trim() ? { main: form.main.trim() } : {}) };
    }
    const kept = (action?.annotations ?? []).filter((a) => !['web-export', 'raw-http', 'final', 'exec'].includes(a.key));
    const annotations = [...kept, ...(form.web ? [{ key: 'web-export', value: true }, { key: 'raw-http', value: false }, { key: 'final', value: true }] : [])];
    const body = { exec, limits: { ...action?.limits, memory, timeout }, parameters: toKeyValues(params.value), annotations };
    setBusy(true);
    setError(undefined);
    try {
      const a = await api.putAction(name, body, Boolean(action));
      setSaved(`Saved version ${a.version}.`);
      onSaved(a);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? `An action named ${name} exists already; open it to edit it.` : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="panel" onSubmit={submit} aria-labelledby="editor-h">
      <h2 id="editor-h">{action ? 'Edit' : 'Create'}</h2>
      <div class="grid">
        <label>
          Name
          <input name="name" value={form.name} readOnly={Boolean(action)} required onInput={(e) => set('name', e.currentTarget.value)} />
        </label>
        <label>
          Kind
          <select
            name="kind"
            value={form.kind}
            onChange={(e) => {
              const kind = e.currentTarget.value;
              // Swap the sample when the code is still a sample, so a new action starts runnable.
              if (form.code === SAMPLE.js || form.code === SAMPLE.py) {
                setForm((f) => ({ ...f, kind, code: kind.startsWith('python') ? SAMPLE.py : SAMPLE.js }));
                setReset((n) => n + 1);
              } else set('kind', kind);
            }}
          >
            {[...new Set([...kinds, form.kind])].map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Memory (MB)
          <input name="memory" type="number" min={1} inputMode="numeric" value={form.memory} onInput={(e) => set('memory', e.currentTarget.value)} />
        </label>
        <label>
          Timeout (ms)
          <input name="timeout" type="number" min={1} inputMode="numeric" value={form.timeout} onInput={(e) => set('timeout', e.currentTarget.value)} />
        </label>
      </div>
      {isSeq ? (
        <>
          <label>
            Steps (action names in order, comma-separated)
            <input name="components" value={form.components} onInput={(e) => set('components', e.currentTarget.value)} />
          </label>
          {action?.exec.components ? (
            <ol class="steps" aria-label="Sequence steps">
              {action.exec.components.map((c, i) => (
                <li key={`${i}-${c}`}>
                  <a href={href('actions', c.split('/').slice(2).join('/'))}>{c}</a>
                </li>
              ))}
            </ol>
          ) : null}
        </>
      ) : (
        <>
          <span class="label" id="code-label">
            Code{binary ? ' (an uploaded archive; leave empty to keep it, or write code to replace it)' : ''}
          </span>
          <CodeEditor value={form.code} reset={reset} kind={form.kind} labelledBy="code-label" onChange={(code) => setForm((f) => ({ ...f, code }))} />
          <label>
            Entry point (optional, default main)
            <input name="main" value={form.main} onInput={(e) => set('main', e.currentTarget.value)} />
          </label>
        </>
      )}
      <label>
        Default parameters (JSON object)
        <textarea name="params" rows={3} spellcheck={false} value={form.params} onInput={(e) => set('params', e.currentTarget.value)} />
      </label>
      <label class="switch">
        <input type="checkbox" role="switch" name="web" checked={form.web} onChange={(e) => set('web', e.currentTarget.checked)} />
        Web action (callable without a key at /api/v1/web/…)
      </label>
      {form.web && action ? (
        <p class="hint">
          URL: <code>{`${location.origin}/api/v1/web/${action.namespace.split('/')[0]}/${action.namespace.split('/')[1] ?? 'default'}/${action.name}.json`}</code>
        </p>
      ) : null}
      <ErrorText error={error} />
      <p role="status" class="ok">
        {saved}
      </p>
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {action ? 'Save' : 'Create'}
        </button>
        {action ? (
          <ConfirmButton
            label="Delete"
            question={`Delete the action ${qualified(action)}? This cannot be undone.`}
            confirm="Delete action"
            onConfirm={async () => {
              await api.deleteAction(qualified(action));
              go('actions');
            }}
          />
        ) : null}
      </div>
    </form>
  );
}

async function followRecord(api: Api, id: string, show: (a: Activation) => void): Promise<void> {
  for (let i = 0; i < 15; i++) {
    await new Promise((r) => setTimeout(r, 300));
    try {
      const record = await api.getActivation(id);
      if ((record.logs?.length ?? 0) > 0 || i >= 9) return show(record);
    } catch {
      // not stored yet
    }
  }
}
function InvokePanel({ action, name }: { action: Action; name: string }) {
  const api = useApi();
  const [params, setParams] = useState('{}');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ activation?: Activation; id?: string; ms: number; status: number }>();
  return (
    <section class="panel" aria-labelledby="invoke-h">
      <h2 id="invoke-h">Invoke</h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const p = parseJsonObject(params, 'Parameters');
          if ('error' in p) return setError(p.error);
          setBusy(true);
          setError(undefined);
          try {
            const { status, body, ms } = await api.invoke(name, p.value);
            const b = body as Activation & { activationId: string };
            setOutcome(status === 202 ? { id: b.activationId, ms, status } : { activation: b, ms, status });
            // The blocking answer comes as soon as the result is known; the logs are collected after
            // it, into the stored record. Read that record until its logs are in (or a few seconds pass).
            if (status !== 202) void followRecord(api, b.activationId, (record) => setOutcome({ activation: record, ms, status }));
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          Parameters (JSON object)
          <textarea name="invoke-params" rows={4} spellcheck={false} value={params} onInput={(e) => setParams(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Invoking…' : 'Invoke'}
        </button>
      </form>
      <ErrorText error={error} />
      <div aria-live="polite">
        {outcome?.id ? (
          <p>
            Still running after the blocking wait; see activation <a href={href('activations', outcome.id)}>{outcome.id}</a>.
          </p>
        ) : null}
        {outcome?.activation ? (
          <div class="outcome">
            <p class="hint">Round trip {fmtMs(outcome.ms)} (HTTP {outcome.status}).</p>
            <ActivationSummary a={outcome.activation} />
            <h3>Result</h3>
            <Json value={outcome.activation.response?.result} label="Result" />
            <h3>Logs</h3>
            <Logs lines={outcome.activation.logs} />
          </div>
        ) : null}
      </div>
      {action.exec.kind === 'sequence' ? <p class="hint">A sequence's result is its last step's; each step has its own activation.</p> : null}
    </section>
  );
}
