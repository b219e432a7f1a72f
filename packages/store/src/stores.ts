/** What the SQLite and CouchDB adapters share: the bundle they open, and how activations are keyed by name. */
import { annotation, type ActivationRecord, type ActivationStore, type EntityStore, type SubjectStore } from '@whirl/core';

/** The three record stores a process opens together (one SQLite file, or three CouchDB databases). */
export interface Stores {
  entities: EntityStore;
  activations: ActivationStore;
  subjects: SubjectStore;
  /** Closes what the adapter opened (the shared connection, or the three databases); idempotent. */
  close(): Promise<void>;
}

/**
 * The keys an activation is found under by `name`, mirroring OpenWhisk's `whisks-filters` view: the
 * action's `[pkg/]name` from its `path` (namespace dropped, so actions invoked from another namespace
 * match by package), the binding it was reached through, or — for trigger activations, which carry no
 * path — the record's own name. Both adapters index these, so a list by name finds the same records.
 */
export function activationKeys(r: ActivationRecord): { nameKey: string; bindingKey: string | null } {
  const path = annotation(r.annotations, 'path');
  const nameKey = path === undefined ? r.name : (withoutFirstSegment(path) ?? r.name);
  const bindingKey = withoutFirstSegment(annotation(r.annotations, 'binding')) ?? null;
  return { nameKey, bindingKey };
}

function withoutFirstSegment(path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined;
  const i = path.indexOf('/');
  return i < 0 ? undefined : path.slice(i + 1);
}
