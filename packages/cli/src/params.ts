/** -p/-P/-a/-A handling, shared by every command that takes parameters or annotations. */
import { readFileSync } from 'node:fs';
import type { KeyValue } from './api/types.js';
import { UsageError } from './exit.js';

/**
 * wsk takes `-p KEY VALUE`: two words after one flag, which commander cannot express. Before parsing, each
 * such pair is folded into one token `--param=<KEY>\0<VALUE>` (NUL cannot appear in argv, so it is a safe
 * separator). Tokens after `--` are left alone.
 */
export const PAIR_FLAGS: Record<string, string> = { '-p': '--param', '--param': '--param', '-a': '--annotation', '--annotation': '--annotation' };
export const PAIR_SEP = '\u0000';

export function foldPairFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const long = PAIR_FLAGS[a];
    if (long === undefined) {
      out.push(a);
      continue;
    }
    const key = argv[i + 1];
    const value = argv[i + 2];
    if (key === undefined || value === undefined) {
      throw new UsageError(`flag ${a} needs two arguments: ${a} KEY VALUE`);
    }
    out.push(`${long}=${key}${PAIR_SEP}${value}`);
    i += 2;
  }
  return out;
}

/**
 * wsk parses a value as JSON when it is JSON, and keeps it as a string otherwise. A value that plainly tries
 * to be a JSON object or array but does not parse is almost always a quoting mistake, so it is an error.
 */
export function parseValue(key: string, raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    const t = raw.trim();
    if (t.startsWith('{') || (t.startsWith('[') && t.endsWith(']'))) {
      throw new UsageError(`The value of '${key}' looks like JSON but is not valid JSON: ${raw}`);
    }
    return raw;
  }
}

export function collectPair(token: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), token];
}

export function pairsToKeyValues(tokens: readonly string[] | undefined, flag: string): KeyValue[] {
  return (tokens ?? []).map((t) => {
    const i = t.indexOf(PAIR_SEP);
    if (i < 0) throw new UsageError(`flag ${flag} needs two arguments: ${flag} KEY VALUE`);
    const key = t.slice(0, i);
    if (key === '') throw new UsageError(`flag ${flag} needs a non-empty KEY`);
    return { key, value: parseValue(key, t.slice(i + 1)) };
  });
}

export function readJsonObjectFile(file: string, flag: string): KeyValue[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`Unable to read the ${flag} file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`The ${flag} file '${file}' is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`The ${flag} file '${file}' must hold a JSON object.`);
  }
  return Object.entries(parsed as Record<string, unknown>).map(([key, value]) => ({ key, value }));
}

/** File entries first, then flags, later keys win (wsk's order). */
export function mergeKeyValues(...lists: KeyValue[][]): KeyValue[] {
  const m = new Map<string, KeyValue>();
  for (const l of lists) for (const kv of l) m.set(kv.key, kv);
  return [...m.values()];
}

export interface KVFlags {
  param?: string[];
  paramFile?: string;
  annotation?: string[];
  annotationFile?: string;
}

export function paramsFrom(o: KVFlags): KeyValue[] | undefined {
  if (o.param === undefined && o.paramFile === undefined) return undefined;
  return mergeKeyValues(o.paramFile !== undefined ? readJsonObjectFile(o.paramFile, '-P') : [], pairsToKeyValues(o.param, '-p'));
}

export function annotationsFrom(o: KVFlags): KeyValue[] | undefined {
  if (o.annotation === undefined && o.annotationFile === undefined) return undefined;
  return mergeKeyValues(o.annotationFile !== undefined ? readJsonObjectFile(o.annotationFile, '-A') : [], pairsToKeyValues(o.annotation, '-a'));
}

export function toObject(list: readonly KeyValue[] | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const kv of list ?? []) o[kv.key] = kv.value;
  return o;
}

export function parseIntFlag(flag: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim())) throw new UsageError(`flag ${flag} expects a whole number, got '${v}'`);
    return Number(v);
  };
}
