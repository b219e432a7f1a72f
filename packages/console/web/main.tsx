/** The console's shell: sign-in, navigation, and the screen for the current hash route. */
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { Api, loadSession, request, saveSession, type Session } from './api.js';
import { parseKeyPaste } from './paste.js';
import { ApiContext, ErrorText, Heading, href, useRoute } from './ui.js';
import { ActionsScreen } from './screens/actions.js';
import { ActivationsScreen } from './screens/activations.js';
import { TriggersScreen } from './screens/triggers.js';
import { PackagesScreen } from './screens/packages.js';
import { OperatorsScreen } from './screens/operators.js';
import './style.css';

const SCREENS = [
  ['actions', 'Actions'],
  ['activations', 'Activations'],
  ['triggers', 'Triggers & rules'],
  ['packages', 'Packages'],
  ['operators', 'Operators'],
] as const;

function SignIn({ onSignIn }: { onSignIn: (s: Session) => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const [note, setNote] = useState<string>();
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="signin">
      <Heading>Sign in to Whirl</Heading>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const parsed = parseKeyPaste(text);
          if ('error' in parsed) return setError(parsed.error);
          setBusy(true);
          setError(undefined);
          try {
            const { status, body } = await request(parsed.auth, 'GET', '/api/v1/namespaces');
            if (status === 401) return setError('The server does not know this key; check it, or take the AUTH line the server printed at start.');
            if (status !== 200 || !Array.isArray(body) || typeof body[0] !== 'string') return setError(`Signing in failed: the server answered ${status}.`);
            if (parsed.apiHost && new URL(parsed.apiHost, location.href).origin !== location.origin) {
              setNote(`The console talks to the server that served it (${location.origin}), not to APIHOST ${parsed.apiHost}.`);
            }
            onSignIn({ auth: parsed.auth, namespace: body[0] });
          } catch (err) {
            setError(`The server could not be reached: ${(err as Error).message}`);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="key">Namespace key</label>
        <p class="hint" id="key-hint">
          Paste <code>uuid:key</code>, or the lines of a wskprops file (<code>AUTH=…</code>, <code>APIHOST=…</code>). Standalone prints its key at
          start and writes <code>.whirl/wskprops</code>. The key is kept in this tab's session storage only.
        </p>
        <textarea id="key" name="key" rows={4} aria-describedby="key-hint" value={text} onInput={(e) => setText(e.currentTarget.value)} autoComplete="off" spellcheck={false} />
        <ErrorText error={error} />
        {note ? <p class="hint">{note}</p> : null}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  const api = useMemo(() => new Api(session), [session]);
  const [screen = 'actions', ...rest] = route;
  let body;
  switch (screen) {
    case 'activations':
      body = <ActivationsScreen rest={rest} />;
      break;
    case 'triggers':
      body = <TriggersScreen rest={rest} />;
      break;
    case 'packages':
      body = <PackagesScreen rest={rest} />;
      break;
    case 'operators':
      body = <OperatorsScreen />;
      break;
    default:
      body = <ActionsScreen rest={screen === 'actions' ? rest : []} />;
  }
  return (
    <ApiContext.Provider value={api}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Whirl</span>
        <nav aria-label="Main">
          <ul>
            {SCREENS.map(([id, label]) => (
              <li key={id}>
                <a href={href(id)} aria-current={screen === id || (id === 'actions' && !SCREENS.some(([s]) => s === screen)) ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" title="namespace">
          {session.namespace}
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </ApiContext.Provider>
  );
}

function App() {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  if (!session) {
    return (
      <SignIn
        onSignIn={(s) => {
          saveSession(s);
          setSession(s);
        }}
      />
    );
  }
  return (
    <Shell
      session={session}
      onSignOut={() => {
        saveSession(undefined);
        setSession(undefined);
        location.hash = '';
      }}
    />
  );
}

render(<App />, document.getElementById('app')!);
