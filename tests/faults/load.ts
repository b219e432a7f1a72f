/**
 * The fault suite's steady, bounded load and its bookkeeping: a fixed number of invocations at a fixed
 * pace (blocking and non-blocking in turn), each with a client deadline; then every activation id
 * handed out is read back. Figures are what the suite prints and bench/RESULTS.md tabulates.
 */
import { Agent } from 'undici';

const insecure = new Agent({ connect: { rejectUnauthorized: false } });

export interface Target {
  apiHost: string;
  auth: string;
}

export interface Outcome {
  blocking: boolean;
  status: number;
  activationId?: string;
  /** The error text of a refusal (a 4xx/5xx without an id). */
  reason?: string;
  /** No answer within the client deadline. */
  hung?: boolean;
  /** The connection failed or was dropped without an HTTP answer. */
  dropped?: string;
}

export interface Figures {
  scenario: string;
  sent: number;
  accepted: number;
  failedFast: number;
  dropped: number;
  hung: number;
  lost: number;
  recoverySeconds: number;
}

export async function call(t: Target, method: string, path: string, body?: unknown, timeoutMs = 90_000): Promise<{ status: number; body: unknown }> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetch(`${t.apiHost}${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from(t.auth).toString('base64')}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctl.signal,
      ...(t.apiHost.startsWith('https:') ? { dispatcher: insecure } : {}),
    } as RequestInit);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  } finally {
    clearTimeout(timer);
  }
}

/** One invocation of `action`, classified. The client deadline is generous: past it is a hang. */
export async function invokeOnce(t: Target, action: string, blocking: boolean, deadlineMs = 90_000): Promise<Outcome> {
  try {
    const r = await call(t, 'POST', `/api/v1/namespaces/_/actions/${action}${blocking ? '?blocking=true&timeout=20000' : ''}`, { n: 1 }, deadlineMs);
    const b = r.body as { activationId?: string; error?: string };
    const o: Outcome = { blocking, status: r.status };
    if (typeof b === 'object' && b !== null && typeof b.activationId === 'string') o.activationId = b.activationId;
    else if (typeof b === 'object' && b !== null && typeof b.error === 'string') o.reason = b.error;
    else o.reason = typeof r.body === 'string' ? r.body.slice(0, 200) : JSON.stringify(r.body).slice(0, 200);
    return o;
  } catch (e) {
    if ((e as Error).name === 'AbortError') return { blocking, status: 0, hung: true };
    return { blocking, status: 0, dropped: String((e as Error & { cause?: Error }).cause?.message ?? (e as Error).message) };
  }
}

/**
 * Sends `count` invocations, one every `intervalMs` (without waiting for answers, like independent
 * clients), and resolves with every outcome once all have answered or hit their deadline.
 */
export async function steadyLoad(t: () => Target, action: string, count: number, intervalMs: number): Promise<Outcome[]> {
  const all: Promise<Outcome>[] = [];
  for (let i = 0; i < count; i++) {
    all.push(invokeOnce(t(), action, i % 2 === 0));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return Promise.all(all);
}

/** Ids whose record does not read back within `withinMs` (polling; the suite expects none). */
export async function unreadable(t: () => Target, ids: string[], withinMs: number): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  let missing = [...ids];
  while (missing.length > 0 && Date.now() < deadline) {
    const next: string[] = [];
    for (const id of missing) {
      const r = await call(t(), 'GET', `/api/v1/namespaces/_/activations/${id}`, undefined, 20_000).catch(() => ({ status: 0 }));
      if (r.status !== 200) next.push(id);
    }
    missing = next;
    if (missing.length > 0) await new Promise((r) => setTimeout(r, 2_000));
  }
  return missing;
}

/** Seconds from now until a blocking invocation succeeds again. */
export async function recovery(t: () => Target, action: string, withinMs = 120_000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < withinMs) {
    const o = await invokeOnce(t(), action, true, 30_000);
    if (o.status === 200) return (Date.now() - start) / 1000;
    await new Promise((r) => setTimeout(r, 500));
  }
  return Infinity;
}

export function figures(scenario: string, outcomes: Outcome[], lost: number, recoverySeconds: number): Figures {
  return {
    scenario,
    sent: outcomes.length,
    accepted: outcomes.filter((o) => o.activationId).length,
    failedFast: outcomes.filter((o) => !o.activationId && o.status >= 400).length,
    dropped: outcomes.filter((o) => o.dropped).length,
    hung: outcomes.filter((o) => o.hung).length,
    lost,
    recoverySeconds: Math.round(recoverySeconds * 10) / 10,
  };
}
