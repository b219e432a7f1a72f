/**
 * The entity model on the wire and in the store. Field names and shapes are OpenWhisk's (see
 * OPENWHISK-COMPAT.md §2) because clients read them directly.
 */
import type { ActionLimits } from './limits.js';

export interface KeyValue {
  key: string;
  value: unknown;
  init?: boolean;
}

export type EntityType = 'action' | 'package' | 'trigger' | 'rule' | 'api';

export interface CodeExec {
  kind: string;
  code: string;
  binary: boolean;
  main?: string;
}
export interface BlackboxExec {
  kind: 'blackbox';
  image: string;
  code?: string;
  binary: boolean;
  main?: string;
}
export interface SequenceExec {
  kind: 'sequence';
  components: string[];
}
export type Exec = CodeExec | BlackboxExec | SequenceExec;

interface EntityBase {
  /** `ns` or `ns/pkg`. */
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  annotations: KeyValue[];
  updated: number;
}

export interface WhiskAction extends EntityBase {
  entityType: 'action';
  exec: Exec;
  parameters: KeyValue[];
  limits: ActionLimits;
}

export interface PackageBinding {
  namespace: string;
  name: string;
}
export interface WhiskPackage extends EntityBase {
  entityType: 'package';
  parameters: KeyValue[];
  /** `{}` for a real package. */
  binding: PackageBinding | Record<string, never>;
}

export interface ReducedRule {
  action: { path: string; name: string };
  status: 'active' | 'inactive';
}
export interface WhiskTrigger extends EntityBase {
  entityType: 'trigger';
  parameters: KeyValue[];
  limits: Record<string, never>;
  rules?: Record<string, ReducedRule>;
}

export interface WhiskRule extends EntityBase {
  entityType: 'rule';
  trigger: { path: string; name: string };
  action: { path: string; name: string };
}

/**
 * One API of the built-in gateway: a namespace's routes under one base path, kept as the swagger 2.0
 * document the apimgmt actions return. Its name is `api:<basepath>`, which no other entity can take
 * (entity names have no `:`), so it shares the namespace's id space without collisions.
 */
export interface WhiskApi extends EntityBase {
  entityType: 'api';
  swagger: Record<string, unknown>;
}

export type WhiskEntity = WhiskAction | WhiskPackage | WhiskTrigger | WhiskRule | WhiskApi;

/** A stored document with its optimistic-concurrency revision. */
export interface Revisioned<T> {
  rev: string;
  doc: T;
}

/** Looks up an annotation value. */
export function annotation(list: readonly KeyValue[] | undefined, key: string): unknown {
  return list?.find((a) => a.key === key)?.value;
}

/** Merges `updates` into `base` by key, later wins; keys in `remove` are dropped. */
export function mergeKeyValues(base: readonly KeyValue[], updates: readonly KeyValue[], remove: readonly string[] = []): KeyValue[] {
  const out = new Map<string, KeyValue>();
  for (const kv of base) out.set(kv.key, kv);
  for (const kv of updates) out.set(kv.key, kv);
  for (const k of remove) out.delete(k);
  return [...out.values()];
}

/** Turns a `[{key,value}]` list into an object; later keys win. */
export function keyValuesToObject(list: readonly KeyValue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) out[kv.key] = kv.value;
  return out;
}

/** OpenWhisk's rule for `binary`: non-empty trimmed code, length a multiple of 4, base64 alphabet. */
export function looksLikeBase64(code: string): boolean {
  const t = code.trim();
  return t.length > 0 && t.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(t);
}

/** Patch-bumps a semver string (`0.0.1` → `0.0.2`); anything unparseable restarts at 0.0.1. */
export function bumpVersion(version: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) return '0.0.1';
  return `${m[1]}.${m[2]}.${Number(m[3]) + 1}`;
}
