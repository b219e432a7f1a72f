import type { Activation } from '../../api/types.js';
import { annotationValue } from '../../api/types.js';
import { UsageError } from '../../exit.js';
import type { WhiskClient } from '../../api/client.js';
import { attempt } from '../shared.js';

const STATUS = ['success', 'application error', 'developer error', 'internal error'];

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** wsk's activation list row: Datetime, Activation ID, Kind, Start, Duration, Status, Entity. */
export function activationRow(a: Activation): string[] {
  const kind = annotationValue(a.annotations, 'kind');
  const code = a.statusCode ?? (a.response ? (a.response.success ? 0 : a.response.status === 'application error' ? 1 : a.response.status === 'action developer error' ? 2 : 3) : undefined);
  return [
    formatDate(a.start),
    a.activationId,
    typeof kind === 'string' ? kind : 'unknown',
    annotationValue(a.annotations, 'initTime') !== undefined ? 'cold' : 'warm',
    a.duration !== undefined ? `${a.duration}ms` : '',
    code !== undefined ? (STATUS[code] ?? String(code)) : '',
    `${a.namespace}/${a.name}:${a.version}`,
  ];
}

export const ACTIVATION_HEADER = ['Datetime', 'Activation ID', 'Kind', 'Start', 'Duration', 'Status', 'Entity'];

/** `--since`/`--upto` accept epoch ms or a relative age such as 30s, 10m, 2h, 1d. */
export function parseTime(flag: string, now = Date.now()) {
  return (v: string): number => {
    const t = v.trim();
    if (/^\d+$/.test(t)) return Number(t);
    const m = /^(\d+)(ms|s|m|h|d)$/.exec(t);
    if (!m) throw new UsageError(`flag ${flag} expects epoch milliseconds or an age like 30s, 10m, 2h, 1d; got '${v}'`);
    const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    return now - Number(m[1]) * mult;
  };
}

/** The id argument, or the newest activation with --last. */
export async function resolveActivationId(client: WhiskClient, ns: string, id: string | undefined, last: boolean | undefined): Promise<string> {
  if (id !== undefined && last !== true) return id;
  if (last !== true) throw new UsageError('An activation ID is required (or pass --last).');
  const list = await attempt('Unable to get the last activation', () => client.listActivations(ns, { limit: 1, skip: 0 }));
  const first = list[0];
  if (!first) throw new UsageError('There are no activations yet, so --last has nothing to show.');
  return first.activationId;
}

/** `--strip` drops the timestamp and stream, leaving what the action printed. */
export function stripLogLine(line: string): string {
  const m = /^\S+\s+(?:(?:stdout|stderr):\s?)?(.*)$/s.exec(line);
  return m ? m[1]! : line;
}
