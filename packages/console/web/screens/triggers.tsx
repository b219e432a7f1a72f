/** Triggers and rules: create, fire, enable/disable, delete. */
import { useEffect, useState } from 'preact/hooks';
import { entityPath, parseJsonObject, toKeyValues, type Rule, type Trigger } from '../api.js';
import { ConfirmButton, ErrorText, Heading, href, useApi } from '../ui.js';

export function TriggersScreen(_props: { rest: string[] }) {
  const api = useApi();
  const [triggers, setTriggers] = useState<Trigger[]>();
  const [rules, setRules] = useState<Rule[]>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<{ text: string; activationId?: string }>();
  const [tick, setTick] = useState(0);
  const refresh = () => setTick((n) => n + 1);

  useEffect(() => {
    api.listTriggers().then(setTriggers, (e: Error) => setError(e.message));
    // A rule's status lives in its trigger; the list does not carry it, one GET per rule does.
    api
      .listRules()
      .then((list) => Promise.all(list.map((r) => api.getRule(r.name).catch(() => r))))
      .then(setRules, (e: Error) => setError(e.message));
  }, [tick]);

  return (
    <div>
      <Heading>Triggers &amp; rules</Heading>
      <ErrorText error={error} />
      <p role="status" class="ok">
        {message ? (
          <>
            {message.text}{' '}
            {message.activationId ? (
              <>
                Trigger activation <a href={href('activations', message.activationId)}>{message.activationId}</a>; the rules' activations appear in the{' '}
                <a href={href('activations')}>timeline</a>.
              </>
            ) : null}
          </>
        ) : null}
      </p>
      <div class="split">
        <section class="panel" aria-labelledby="triggers-h">
          <h2 id="triggers-h">Triggers</h2>
          {triggers === undefined ? (
            <p aria-busy="true">Loading…</p>
          ) : triggers.length === 0 ? (
            <p>No triggers yet.</p>
          ) : (
            <ul class="cards">
              {triggers.map((t) => (
                <TriggerCard
                  key={t.name}
                  t={t}
                  onFired={(activationId) => setMessage({ text: `Fired ${t.name}.`, activationId })}
                  onDeleted={() => {
                    setMessage({ text: `Deleted trigger ${t.name}.` });
                    refresh();
                  }}
                />
              ))}
            </ul>
          )}
          <NewTrigger
            onCreated={(name) => {
              setMessage({ text: `Created trigger ${name}.` });
              refresh();
            }}
          />
        </section>
        <section class="panel" aria-labelledby="rules-h">
          <h2 id="rules-h">Rules</h2>
          {rules === undefined ? (
            <p aria-busy="true">Loading…</p>
          ) : rules.length === 0 ? (
            <p>No rules yet.</p>
          ) : (
            <ul class="cards">
              {rules.map((r) => (
                <li key={r.name} class="card" aria-label={`Rule ${r.name}`}>
                  <div class="card-head">
                    <strong>{r.name}</strong>
                    <span class={`badge ${r.status === 'active' ? 's0' : 'off'}`}>{r.status ?? 'unknown'}</span>
                  </div>
                  <p>
                    when <code>{entityPath(r.trigger)}</code> fires, run <code>{entityPath(r.action)}</code>
                  </p>
                  <div class="row">
                    <button
                      type="button"
                      onClick={async () => {
                        try {
                          const next = r.status === 'active' ? 'inactive' : 'active';
                          await api.setRuleStatus(r.name, next);
                          setMessage({ text: `Rule ${r.name} is ${next} now.` });
                          refresh();
                        } catch (e) {
                          setError((e as Error).message);
                        }
                      }}
                    >
                      {r.status === 'active' ? 'Disable' : 'Enable'}
                    </button>
                    <ConfirmButton
                      label="Delete"
                      question={`Delete the rule ${r.name}?`}
                      confirm="Delete rule"
                      onConfirm={async () => {
                        await api.deleteRule(r.name);
                        setMessage({ text: `Deleted rule ${r.name}.` });
                        refresh();
                      }}
                    />
                  </div>
                </li>
              ))}
            </ul>
          )}
          <NewRule
            triggers={triggers ?? []}
            onCreated={(name) => {
              setMessage({ text: `Created rule ${name}.` });
              refresh();
            }}
          />
        </section>
      </div>
    </div>
  );
}

function TriggerCard({ t, onFired, onDeleted }: { t: Trigger; onFired: (id?: string) => void; onDeleted: () => void }) {
  const api = useApi();
  const [params, setParams] = useState('{}');
  const [error, setError] = useState<string>();
  const id = `fire-${t.name}`;
  return (
    <li class="card" aria-label={`Trigger ${t.name}`}>
      <div class="card-head">
        <strong>{t.name}</strong>
      </div>
      <form
        class="row"
        onSubmit={async (e) => {
          e.preventDefault();
          const p = parseJsonObject(params, 'Fire parameters');
          if ('error' in p) return setError(p.error);
          try {
            setError(undefined);
            const res = await api.fireTrigger(t.name, p.value);
            onFired(res?.activationId);
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        <label for={id} class="inline">
          Parameters
        </label>
        <input id={id} name="fire-params" value={params} spellcheck={false} onInput={(e) => setParams(e.currentTarget.value)} />
        <button type="submit" class="primary">
          Fire
        </button>
        <ConfirmButton label="Delete" question={`Delete the trigger ${t.name}?`} confirm="Delete trigger" onConfirm={async () => (await api.deleteTrigger(t.name), onDeleted())} />
      </form>
      <ErrorText error={error} />
    </li>
  );
}

function NewTrigger({ onCreated }: { onCreated: (name: string) => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [params, setParams] = useState('{}');
  const [error, setError] = useState<string>();
  return (
    <form
      class="subform"
      aria-labelledby="new-trigger-h"
      onSubmit={async (e) => {
        e.preventDefault();
        const p = parseJsonObject(params, 'Parameters');
        if ('error' in p) return setError(p.error);
        if (!name.trim()) return setError('Give the trigger a name.');
        try {
          setError(undefined);
          await api.putTrigger(name.trim(), { parameters: toKeyValues(p.value) });
          setName('');
          onCreated(name.trim());
        } catch (err) {
          setError((err as Error).message);
        }
      }}
    >
      <h3 id="new-trigger-h">New trigger</h3>
      <label>
        Trigger name
        <input name="trigger-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Default parameters (JSON object)
        <input name="trigger-params" value={params} spellcheck={false} onInput={(e) => setParams(e.currentTarget.value)} />
      </label>
      <ErrorText error={error} />
      <button type="submit">Create trigger</button>
    </form>
  );
}

function NewRule({ triggers, onCreated }: { triggers: Trigger[]; onCreated: (name: string) => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [trigger, setTrigger] = useState('');
  const [action, setAction] = useState('');
  const [actions, setActions] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    api.listActions().then(
      (list) => setActions(list.map((a) => (a.namespace.includes('/') ? `${a.namespace.split('/').slice(1).join('/')}/${a.name}` : a.name))),
      () => setActions([]),
    );
  }, []);
  return (
    <form
      class="subform"
      aria-labelledby="new-rule-h"
      onSubmit={async (e) => {
        e.preventDefault();
        const t = trigger || triggers[0]?.name;
        const a = action || actions[0];
        if (!name.trim() || !t || !a) return setError('A rule needs a name, a trigger and an action.');
        try {
          setError(undefined);
          await api.putRule(name.trim(), { trigger: `/_/${t}`, action: `/_/${a}` });
          setName('');
          onCreated(name.trim());
        } catch (err) {
          setError((err as Error).message);
        }
      }}
    >
      <h3 id="new-rule-h">New rule</h3>
      <label>
        Rule name
        <input name="rule-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      {/* for/id, not a wrapping label: a wrapped select would add its chosen option to the label's name. */}
      <label for="rule-trigger">Trigger</label>
      <select id="rule-trigger" name="rule-trigger" value={trigger || triggers[0]?.name} onChange={(e) => setTrigger(e.currentTarget.value)}>
          {triggers.map((t) => (
            <option key={t.name}>{t.name}</option>
          ))}
      </select>
      <label for="rule-action">Action</label>
      <select id="rule-action" name="rule-action" value={action || actions[0]} onChange={(e) => setAction(e.currentTarget.value)}>
          {actions.map((a) => (
            <option key={a}>{a}</option>
          ))}
      </select>
      <ErrorText error={error} />
      <button type="submit">Create rule</button>
    </form>
  );
}
