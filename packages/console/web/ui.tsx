/** Small shared pieces: the route hook, the status line, a confirmation dialog, JSON and time display. */
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api.js';

export const ApiContext = createContext<Api | undefined>(undefined);
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside of a signed-in console');
  return api;
}

/** Hash routes (#/actions/hello): the server serves one index.html and needs no fallback rules. */
export function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join('/')}`;
export const go = (...parts: string[]): void => {
  location.hash = href(...parts);
};

/** Screen heading that takes focus when the screen opens, so keyboard and screen-reader users land on it. */
export function Heading({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function ErrorText({ error }: { error: string | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre class="json" aria-label={label} tabIndex={0}>
      {value === undefined ? '' : JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** Log lines; a sequence's "logs" are its steps' activation ids, which become links. */
export function Logs({ lines, label = 'Logs' }: { lines: string[] | undefined; label?: string }) {
  const ids = lines && lines.length > 0 && lines.every((l) => /^[0-9a-f]{32}$/.test(l));
  return (
    <pre class="logs" aria-label={label} tabIndex={0}>
      {!lines || lines.length === 0
        ? '(no logs)'
        : ids
          ? lines.map((id, i) => (
              <span key={id}>
                {i > 0 ? '\n' : ''}
                <a href={href('activations', id)}>{id}</a>
              </span>
            ))
          : lines.join('\n')}
    </pre>
  );
}

/** A modal confirmation on the native <dialog>: it traps focus and closes on Escape by itself. */
export function ConfirmButton(props: { label: string; question: string; confirm: string; onConfirm: () => Promise<void> | void; class?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<string>();
  return (
    <>
      <button type="button" class={props.class ?? 'danger'} onClick={() => ref.current?.showModal()}>
        {props.label}
      </button>
      <dialog ref={ref} aria-label={props.question}>
        <form
          method="dialog"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await props.onConfirm();
              ref.current?.close();
            } catch (err) {
              setError((err as Error).message);
            }
          }}
        >
          <p>{props.question}</p>
          <ErrorText error={error} />
          <div class="row">
            <button type="submit" class="danger">
              {props.confirm}
            </button>
            <button type="button" onClick={() => ref.current?.close()} autoFocus>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

export const fmtTime = (ms: number): string => new Date(ms).toLocaleString(undefined, { hour12: false });
export const fmtMs = (ms: number | undefined): string => (ms === undefined ? '—' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`);

/** Runs `fn` now and every `ms` while the page is visible. */
export function usePoll(fn: () => Promise<void>, ms: number, deps: unknown[]): void {
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (stopped) return;
      if (document.visibilityState === 'visible') {
        try {
          await fn();
        } catch {
          // the screen shows its own error state; keep polling
        }
      }
      if (!stopped) timer = setTimeout(() => void tick(), ms);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, deps);
}
