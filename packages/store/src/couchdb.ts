/**
 * Production store adapters: entities, activations and subjects in three CouchDB databases, through
 * nano. The same code runs against real CouchDB 3 (docker-compose, Kubernetes) and pouchdb-server (the
 * dev service), so it only uses what both implement: documents with `_rev`, `_bulk_docs`,
 * `_all_docs?keys`, and JavaScript map views with the built-in `_count` reduce. Mango `_find` is
 * avoided: pouchdb-server cannot sort without an index and its skip/limit on indexes is unreliable.
 */
import nano from 'nano';
import type { DocumentScope, ServerScope } from 'nano';
import {
  ConflictError,
  Messages,
  NotFoundError,
  ServiceUnavailableError,
  usageOf,
  type ActionUsage,
  type UsageQuery,
  type ActivationListQuery,
  type ActivationRecord,
  type ActivationStore,
  type EntityListQuery,
  type EntityStore,
  migrateClearKeys,
  type Revisioned,
  type StoredCredential,
  type Subject,
  type SubjectStore,
  type UserLimits,
  type WhiskEntity,
} from '@whirl/core';
import { activationKeys, type Stores } from './stores.js';

export type CouchStores = Stores;

export interface CouchStoreOptions {
  /**
   * Prepended to the database names (`<prefix>whisks`, `<prefix>activations`, `<prefix>subjects`), so
   * that several deployments or test runs can share one server. CouchDB allows only `[a-z0-9_$()+/-]`
   * after a leading letter.
   */
  prefix?: string;
}

/** The design document every database gets; bump `version` whenever a view changes. */
const DESIGN_ID = '_design/whirl';
const DESIGN_VERSION = 2;

/*
 * View code runs inside CouchDB's JavaScript engine, which is ES5 on CouchDB 3 (SpiderMonkey 1.8.5),
 * hence plain strings in old syntax rather than TypeScript functions.
 *
 * Entity keys carry `-updated` so that an ascending scan gives newest first while rows with equal
 * keys stay ordered by document id ascending, exactly like the SQLite adapter.
 */
const entityView = (root: boolean, publishedOnly: boolean): string => `function (doc) {
  var e = doc.entity;
  if (!e || typeof e.namespace !== 'string') return;
  ${publishedOnly ? 'if (e.publish !== true) return;' : ''}
  var ns = e.namespace;
  ${root ? "var i = ns.indexOf('/'); if (i >= 0) ns = ns.substring(0, i);" : ''}
  emit([e.entityType, ns, -e.updated], null);
}`;

const ENTITY_VIEWS = {
  by_namespace: { map: entityView(false, false), reduce: '_count' },
  by_root: { map: entityView(true, false), reduce: '_count' },
  published_by_namespace: { map: entityView(false, true), reduce: '_count' },
  published_by_root: { map: entityView(true, true), reduce: '_count' },
};

/*
 * Activation keys end in `start` and are scanned descending, so equal starts come out by document id
 * (`ns/activationId`) descending, matching the SQLite adapter's `start DESC, activation_id DESC`.
 * A record reached under the same key by path and by binding is emitted once, as SQL's UNION does.
 */
const ACTIVATION_VIEWS = {
  by_start: {
    map: `function (doc) {
  if (doc.record && typeof doc.record.namespace === 'string') emit([doc.record.namespace, doc.record.start], null);
}`,
    reduce: '_count',
  },
  by_name: {
    map: `function (doc) {
  var r = doc.record;
  if (!r || typeof r.namespace !== 'string') return;
  emit([r.namespace, doc.nameKey, r.start], null);
  if (typeof doc.bindingKey === 'string' && doc.bindingKey !== doc.nameKey) emit([r.namespace, doc.bindingKey, r.start], null);
}`,
    reduce: '_count',
  },
  /*
   * Usage metering: the record's contribution (core's usageOf, stored beside it as `usage`) under
   * [namespace, action, start], summed by the built-in `_sum` reduce. CouchDB keeps the reductions in
   * its b-tree's inner nodes, so a range sum costs O(log n) whatever the number of records; an upsert
   * replaces the record's row, and with it its contribution.
   */
  usage: {
    map: `function (doc) {
  var r = doc.record, u = doc.usage;
  if (!r || typeof r.namespace !== 'string' || !u) return;
  emit([r.namespace, u.action, r.start], [u.invocations, u.errors, u.durationMs, u.mbMs]);
}`,
    reduce: '_sum',
  },
};

/**
 * Credentials by uuid only: keys are hashed at rest and verified by the caller. Blocked subjects are
 * found too, so that the controller can answer 403 rather than 401.
 */
const SUBJECT_VIEWS = {
  by_uuid: {
    map: `function (doc) {
  if (doc.kind !== 'subject' || !doc.subject) return;
  var list = doc.subject.namespaces || [];
  for (var i = 0; i < list.length; i++) emit(list[i].uuid, doc.at);
}`,
  },
  subjects: {
    map: `function (doc) {
  if (doc.kind === 'subject' && doc.subject) emit(doc.subject.subject, null);
}`,
  },
  limits: {
    map: `function (doc) {
  if (doc.kind === 'limits') emit(doc.namespace, null);
}`,
  },
};

interface EntityDoc {
  _id: string;
  _rev?: string;
  entity: WhiskEntity;
}

interface ActivationDoc {
  _id: string;
  _rev?: string;
  nameKey: string;
  bindingKey: string | null;
  record: ActivationRecord;
  /** What the record adds to its action's usage; absent when it is none (and on records of older builds). */
  usage?: ActionUsage;
}

interface SubjectDoc {
  _id: string;
  _rev?: string;
  kind: 'subject';
  subject: Subject;
  /** Epoch ms of the last put: a credential pair held by two subjects follows its newest owner. */
  at: number;
}

interface LimitsDoc {
  _id: string;
  _rev?: string;
  kind: 'limits';
  namespace: string;
  limits: Partial<UserLimits>;
}

interface ViewRow<V, D> {
  id: string;
  key: unknown;
  value: V;
  doc?: D | null;
}

interface ViewResponse<V, D> {
  rows: ViewRow<V, D>[];
}

/** What nano rejects with: HTTP failures carry `statusCode` (and CouchDB's `error`), socket failures none. */
interface CouchFailure {
  statusCode?: number;
  error?: string;
  message?: string;
}

function failure(e: unknown): CouchFailure {
  return typeof e === 'object' && e !== null ? (e as CouchFailure) : {};
}

function statusOf(e: unknown): number | undefined {
  return failure(e).statusCode;
}

/**
 * Turns an unreachable or overloaded server into the 503 the controller reports, so callers do not
 * have to know nano's error shapes; every other failure passes through unchanged.
 */
function unavailable(e: unknown): never {
  const status = statusOf(e);
  if (status === undefined || status === 502 || status === 503 || status === 504) {
    const reason = failure(e).message ?? String(e);
    throw new ServiceUnavailableError(`The store is not available (${reason}).`, 'STORE_UNAVAILABLE');
  }
  throw e;
}

async function ensureDatabase(server: ServerScope, name: string): Promise<void> {
  try {
    await server.db.create(name);
  } catch (e) {
    // 412: it already exists, which is the normal case after the first start.
    if (statusOf(e) !== 412) unavailable(e);
  }
}

/**
 * Installs or upgrades the design document. Several controllers may start at once, so a conflict
 * means another one got there first: re-read and compare again.
 */
async function ensureDesign(db: DocumentScope<unknown>, views: Record<string, { map: string; reduce?: string }>): Promise<void> {
  const wanted = { language: 'javascript', version: DESIGN_VERSION, views };
  for (let attempt = 0; attempt < 5; attempt++) {
    let current: { _rev: string; version?: unknown; views?: unknown } | undefined;
    try {
      current = (await db.get(DESIGN_ID)) as unknown as { _rev: string; version?: unknown; views?: unknown };
    } catch (e) {
      if (statusOf(e) !== 404) unavailable(e);
    }
    if (current && current.version === DESIGN_VERSION && JSON.stringify(current.views) === JSON.stringify(views)) return;
    // An older build must not downgrade views a newer one installed.
    if (current && typeof current.version === 'number' && current.version > DESIGN_VERSION) return;
    try {
      await db.insert({ _id: DESIGN_ID, ...(current ? { _rev: current._rev } : {}), ...wanted } as never);
      return;
    } catch (e) {
      if (statusOf(e) !== 409) unavailable(e);
    }
  }
  throw new Error(`could not install ${DESIGN_ID}: too many concurrent updates`);
}

export async function openCouchStores(url: string, opts: CouchStoreOptions = {}): Promise<CouchStores> {
  const prefix = opts.prefix ?? '';
  const server = nano({ url });
  const names = { whisks: `${prefix}whisks`, activations: `${prefix}activations`, subjects: `${prefix}subjects` };
  await Promise.all(Object.values(names).map((n) => ensureDatabase(server, n)));
  const whisks = server.use<EntityDoc>(names.whisks);
  const activationsDb = server.use<ActivationDoc>(names.activations);
  const subjectsDb = server.use<SubjectDoc | LimitsDoc>(names.subjects);
  await Promise.all([
    ensureDesign(whisks as DocumentScope<unknown>, ENTITY_VIEWS),
    ensureDesign(activationsDb as DocumentScope<unknown>, ACTIVATION_VIEWS),
    ensureDesign(subjectsDb as DocumentScope<unknown>, SUBJECT_VIEWS),
  ]);
  const entities = new CouchEntityStore(whisks);
  const activations = new CouchActivationStore(activationsDb);
  const subjects = new CouchSubjectStore(subjectsDb);
  await subjects.migrateClearKeys();
  return {
    entities,
    activations,
    subjects,
    async close() {
      await Promise.all([entities.close(), activations.close(), subjects.close()]);
    },
  };
}

/**
 * nano keeps no connection of its own (it uses the global fetch pool), so closing only stops this
 * store from being used by mistake after shutdown.
 */
abstract class CouchStoreBase<D> {
  private closed = false;
  constructor(protected readonly db: DocumentScope<D>) {}

  async close(): Promise<void> {
    this.closed = true;
  }

  protected assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  protected async view<V>(view: string, params: Record<string, unknown>): Promise<ViewResponse<V, D>> {
    this.assertOpen();
    try {
      return (await this.db.view<V>('whirl', view, params)) as unknown as ViewResponse<V, D>;
    } catch (e) {
      return unavailable(e);
    }
  }

  protected async countRows(view: string, params: Record<string, unknown>): Promise<number> {
    const res = await this.view<number>(view, { ...params, reduce: true, group: false });
    return res.rows[0]?.value ?? 0;
  }

  /** The document, or undefined when it does not exist (or was deleted). */
  protected async fetch(id: string): Promise<D | undefined> {
    this.assertOpen();
    try {
      return (await this.db.get(id)) as unknown as D;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      return unavailable(e);
    }
  }

  /** Create-or-replace, re-reading the revision when a concurrent writer got in between. */
  protected async upsert(id: string, body: Omit<D, '_id' | '_rev'>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const current = (await this.fetch(id)) as { _rev?: string } | undefined;
      try {
        await this.db.insert({ ...body, _id: id, ...(current?._rev ? { _rev: current._rev } : {}) } as never);
        return;
      } catch (e) {
        if (statusOf(e) !== 409 || attempt >= 10) unavailable(e);
      }
    }
  }
}

const docIdOf = (doc: WhiskEntity): string => `${doc.namespace}/${doc.name}`;

class CouchEntityStore extends CouchStoreBase<EntityDoc> implements EntityStore {
  async get(docId: string): Promise<Revisioned<WhiskEntity> | undefined> {
    const d = await this.fetch(docId);
    return d?.entity && d._rev ? { rev: d._rev, doc: d.entity } : undefined;
  }

  async create(doc: WhiskEntity): Promise<Revisioned<WhiskEntity>> {
    this.assertOpen();
    try {
      const res = await this.db.insert({ _id: docIdOf(doc), entity: doc });
      return { rev: res.rev, doc };
    } catch (e) {
      if (statusOf(e) === 409) throw new ConflictError(Messages.exists);
      return unavailable(e);
    }
  }

  async update(doc: WhiskEntity, rev: string): Promise<Revisioned<WhiskEntity>> {
    this.assertOpen();
    try {
      const res = await this.db.insert({ _id: docIdOf(doc), _rev: rev, entity: doc });
      return { rev: res.rev, doc };
    } catch (e) {
      // 409 for a stale revision; a missing document answers 404 (pouchdb-server) or 409 (CouchDB),
      // and a malformed revision 400: either way the caller's revision names nothing current.
      const status = statusOf(e);
      if (status === 409 || status === 404 || status === 400) throw new ConflictError();
      return unavailable(e);
    }
  }

  async delete(docId: string, rev: string): Promise<void> {
    this.assertOpen();
    try {
      await this.db.destroy(docId, rev);
      return;
    } catch (e) {
      const status = statusOf(e);
      if (status !== 409 && status !== 404 && status !== 400) unavailable(e);
    }
    // Servers differ on what a bad revision of a missing document answers; existence decides.
    if (await this.fetch(docId)) throw new ConflictError();
    throw new NotFoundError();
  }

  async deleteNamespace(namespace: string): Promise<string[]> {
    const deleted: string[] = [];
    for (let attempt = 0; ; attempt++) {
      const rows: { id: string; rev: string }[] = [];
      for (const entityType of ['action', 'package', 'trigger', 'rule'] as const) {
        const res = await this.view<null>('by_root', { ...entityRange({ entityType, namespace, includePackages: true }).params, reduce: false, include_docs: true });
        for (const r of res.rows) if (r.doc?._rev) rows.push({ id: r.id, rev: r.doc._rev });
      }
      if (rows.length === 0) return deleted;
      if (attempt >= 10) throw new Error(`deleting the entities of ${namespace} kept conflicting; call again to finish`);
      let results: BulkResult[];
      try {
        results = (await this.db.bulk({ docs: rows.map((r) => ({ _id: r.id, _rev: r.rev, _deleted: true })) as never })) as BulkResult[];
      } catch (e) {
        return unavailable(e);
      }
      results.forEach((res, i) => {
        if (res.error === undefined) deleted.push(rows[i]!.id);
      });
    }
  }

  async list(q: EntityListQuery): Promise<WhiskEntity[]> {
    const { view, params } = entityRange(q);
    const res = await this.view<null>(view, { ...params, reduce: false, include_docs: true, limit: q.limit, skip: q.skip });
    return res.rows.flatMap((r) => (r.doc?.entity ? [r.doc.entity] : []));
  }

  async count(q: Omit<EntityListQuery, 'limit' | 'skip'>): Promise<number> {
    const { view, params } = entityRange(q);
    return this.countRows(view, params);
  }
}

function entityRange(q: Omit<EntityListQuery, 'limit' | 'skip'>): { view: string; params: Record<string, unknown> } {
  // Only a root namespace has packages below it; `ns/pkg` with includePackages is just `ns/pkg`.
  const byRoot = q.includePackages === true && !q.namespace.includes('/');
  const view = `${q.publishedOnly ? 'published_by_' : 'by_'}${byRoot ? 'root' : 'namespace'}`;
  // `{}` collates after every number, closing the range over all `-updated` values.
  return { view, params: { startkey: [q.entityType, q.namespace], endkey: [q.entityType, q.namespace, {}] } };
}

/** `_bulk_docs` requests stay below CouchDB's default 4 MB request cap for typical records. */
const BULK_CHUNK = 500;

interface BulkResult {
  id?: string;
  rev?: string;
  error?: string;
  reason?: string;
}

class CouchActivationStore extends CouchStoreBase<ActivationDoc> implements ActivationStore {
  async put(records: readonly ActivationRecord[], options: { keepExisting?: boolean } = {}): Promise<void> {
    this.assertOpen();
    for (let i = 0; i < records.length; i += BULK_CHUNK) await this.putChunk(records.slice(i, i + BULK_CHUNK), options.keepExisting === true);
  }

  /**
   * Activations are almost always new, so the batch goes out without revisions first; only the ids
   * that conflict (a record written again, e.g. re-sent after a store outage) pay for a revision
   * lookup and a second round (none with `keepExisting`: the one there stays).
   */
  private async putChunk(records: readonly ActivationRecord[], keepExisting: boolean): Promise<void> {
    let pending = new Map<string, ActivationDoc>();
    for (const r of records) {
      const { nameKey, bindingKey } = activationKeys(r);
      const id = `${r.namespace}/${r.activationId}`;
      // A batch naming one record twice keeps the last, as sequential upserts would.
      pending.delete(id);
      const usage = usageOf(r);
      pending.set(id, { _id: id, nameKey, bindingKey, record: r, ...(usage ? { usage } : {}) });
    }
    let revs = new Map<string, string>();
    for (let attempt = 0; pending.size > 0; attempt++) {
      const docs = [...pending.values()].map((d) => {
        const rev = revs.get(d._id);
        return rev === undefined ? d : { ...d, _rev: rev };
      });
      let results: BulkResult[];
      try {
        results = (await this.db.bulk({ docs })) as BulkResult[];
      } catch (e) {
        return unavailable(e);
      }
      const conflicted = new Map<string, ActivationDoc>();
      const failed: string[] = [];
      results.forEach((res, i) => {
        if (res.error === undefined) return;
        const doc = docs[i]!;
        if (res.error === 'conflict') conflicted.set(doc._id, pending.get(doc._id)!);
        else failed.push(`${doc._id}: ${res.error} ${res.reason ?? ''}`.trim());
      });
      if (failed.length > 0) throw new Error(`storing activations failed: ${failed.join('; ')}`);
      if (conflicted.size > 0 && attempt >= 10) throw new Error(`storing activations kept conflicting: ${[...conflicted.keys()].join(', ')}`);
      // A conflict is a record already there: kept as it is when asked to.
      pending = keepExisting ? new Map() : conflicted;
      if (pending.size > 0) revs = await this.currentRevs([...pending.keys()]);
    }
  }

  private async currentRevs(ids: string[]): Promise<Map<string, string>> {
    let res: { rows: { key: string; value?: { rev: string; deleted?: boolean } }[] };
    try {
      res = (await this.db.fetchRevs({ keys: ids })) as unknown as typeof res;
    } catch (e) {
      return unavailable(e);
    }
    const revs = new Map<string, string>();
    // A deleted document is recreated without a revision, so only live ones count.
    for (const row of res.rows) if (row.value && row.value.deleted !== true) revs.set(row.key, row.value.rev);
    return revs;
  }

  async get(namespace: string, activationId: string): Promise<ActivationRecord | undefined> {
    return (await this.fetch(`${namespace}/${activationId}`))?.record;
  }

  async missing(keys: readonly { namespace: string; activationId: string }[]): Promise<{ namespace: string; activationId: string }[]> {
    if (keys.length === 0) return [];
    const revs = await this.currentRevs(keys.map((k) => `${k.namespace}/${k.activationId}`));
    return keys.filter((k) => !revs.has(`${k.namespace}/${k.activationId}`)).map((k) => ({ namespace: k.namespace, activationId: k.activationId }));
  }

  async list(q: ActivationListQuery): Promise<ActivationRecord[]> {
    const { view, params } = activationRange(q);
    const res = await this.view<null>(view, { ...params, reduce: false, include_docs: true, limit: q.limit, skip: q.skip });
    return res.rows.flatMap((r) => (r.doc?.record ? [r.doc.record] : []));
  }

  async count(q: Omit<ActivationListQuery, 'limit' | 'skip'>): Promise<number> {
    const { view, params } = activationRange(q);
    return this.countRows(view, params);
  }

  /**
   * One grouped query lists the namespace's actions (with their all-time sums); with a time range,
   * one range sum per action follows, since `start` is the last key part and cannot be grouped over.
   */
  async usage(q: UsageQuery): Promise<ActionUsage[]> {
    const all = await this.view<UsageSum>('usage', { reduce: true, group_level: 2, startkey: [q.namespace], endkey: [q.namespace, {}] });
    const actions = all.rows.map((row) => ({ action: (row.key as [string, string])[1], sum: row.value }));
    const bounded = q.since !== undefined || q.upto !== undefined;
    const rangeSum = async ({ action }: { action: string }): Promise<{ action: string; sum: UsageSum | undefined }> => {
      const res = await this.view<UsageSum>('usage', {
        reduce: true,
        group: false,
        startkey: [q.namespace, action, q.since ?? null],
        endkey: [q.namespace, action, q.upto ?? {}],
      });
      return { action, sum: res.rows[0]?.value };
    };
    // A few range sums at a time: a namespace with many actions must not open a query per action at
    // once (pouchdb-server drops connections under that).
    const sums: { action: string; sum: UsageSum | undefined }[] = [];
    if (bounded) {
      for (let i = 0; i < actions.length; i += 4) sums.push(...(await Promise.all(actions.slice(i, i + 4).map(rangeSum))));
    } else sums.push(...actions);
    return sums
      .flatMap(({ action, sum }) =>
        sum && sum[0] > 0 ? [{ action, invocations: sum[0], errors: sum[1], durationMs: sum[2], mbMs: sum[3] }] : [],
      )
      .sort((a, b) => (a.action < b.action ? -1 : a.action > b.action ? 1 : 0));
  }

  async namespaces(): Promise<string[]> {
    const res = await this.view<number>('by_start', { reduce: true, group_level: 1 });
    return res.rows.map((r) => (r.key as [string])[0]);
  }

  /**
   * Retention: the oldest ids of the namespace come from the by-start view (ascending, `before`
   * excluded), their revisions from `_all_docs`, and one `_bulk_docs` deletes them. A record written
   * again in between conflicts and is simply left for the next sweep.
   */
  async deleteOlderThan(namespace: string, before: number, limit: number): Promise<number> {
    const res = await this.view<null>('by_start', { reduce: false, startkey: [namespace], endkey: [namespace, before], inclusive_end: false, limit });
    if (res.rows.length === 0) return 0;
    const revs = await this.currentRevs(res.rows.map((r) => r.id));
    const docs = [...revs].map(([id, rev]) => ({ _id: id, _rev: rev, _deleted: true }));
    let results: BulkResult[];
    try {
      results = (await this.db.bulk({ docs: docs as never })) as BulkResult[];
    } catch (e) {
      return unavailable(e);
    }
    return results.filter((r) => r.error === undefined).length;
  }
}

type UsageSum = [number, number, number, number];

/** A descending scan: `startkey` is the upper bound. `{}` sorts after and a shorter key before every number. */
function activationRange(q: Omit<ActivationListQuery, 'limit' | 'skip'>): { view: string; params: Record<string, unknown> } {
  const base = q.name === undefined ? [q.namespace] : [q.namespace, q.name];
  return {
    view: q.name === undefined ? 'by_start' : 'by_name',
    params: {
      descending: true,
      startkey: [...base, q.upto ?? {}],
      endkey: q.since === undefined ? base : [...base, q.since],
    },
  };
}

/** OpenWhisk keeps a namespace's limits beside the subjects under this id, so do we. */
const limitsId = (namespace: string): string => `${namespace}/limits`;

class CouchSubjectStore extends CouchStoreBase<SubjectDoc | LimitsDoc> implements SubjectStore {
  async credential(uuid: string): Promise<{ subject: Subject; credential: StoredCredential } | undefined> {
    const res = await this.view<number>('by_uuid', { key: uuid, include_docs: true });
    // A uuid held by two subjects (a move that raced) follows its newest owner, as in the SQLite adapter.
    const row = res.rows.filter((r) => r.doc?.kind === 'subject').sort((a, b) => b.value - a.value)[0];
    if (!row) return undefined;
    const subject = (row.doc as SubjectDoc).subject;
    const credential = subject.namespaces.find((n) => n.uuid === uuid);
    return credential ? { subject, credential } : undefined;
  }

  async getSubject(subject: string): Promise<Subject | undefined> {
    const d = await this.fetch(subject);
    return d?.kind === 'subject' ? d.subject : undefined;
  }

  async putSubject(subject: Subject): Promise<void> {
    this.assertOpen();
    await this.upsert(subject.subject, { kind: 'subject', subject, at: Date.now() } as Omit<SubjectDoc, '_id' | '_rev'>);
  }

  async deleteSubject(subject: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const d = await this.fetch(subject);
      if (d?.kind !== 'subject' || !d._rev) return false;
      try {
        await this.db.destroy(subject, d._rev);
        return true;
      } catch (e) {
        const status = statusOf(e);
        if (status === 404) return false;
        if (status !== 409 || attempt >= 10) unavailable(e);
      }
    }
  }

  async listSubjects(q: { limit: number; skip: number }): Promise<Subject[]> {
    const res = await this.view<null>('subjects', { include_docs: true, limit: q.limit, skip: q.skip });
    return res.rows.flatMap((r) => (r.doc?.kind === 'subject' ? [r.doc.subject] : []));
  }

  async getLimits(namespace: string): Promise<Partial<UserLimits>> {
    const d = await this.fetch(limitsId(namespace));
    return d?.kind === 'limits' ? d.limits : {};
  }

  async putLimits(namespace: string, limits: Partial<UserLimits>): Promise<void> {
    this.assertOpen();
    await this.upsert(limitsId(namespace), { kind: 'limits', namespace, limits } as Omit<LimitsDoc, '_id' | '_rev'>);
  }

  async deleteLimits(namespace: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const d = await this.fetch(limitsId(namespace));
      if (!d?._rev) return;
      try {
        await this.db.destroy(limitsId(namespace), d._rev);
        return;
      } catch (e) {
        const status = statusOf(e);
        if (status === 404) return;
        if (status !== 409 || attempt >= 10) unavailable(e);
      }
    }
  }

  async listLimits(): Promise<{ namespace: string; limits: Partial<UserLimits> }[]> {
    const res = await this.view<null>('limits', { include_docs: true });
    return res.rows.flatMap((r) => (r.doc?.kind === 'limits' ? [{ namespace: r.doc.namespace, limits: r.doc.limits }] : []));
  }

  /** Subjects from before keys were hashed keep them in the clear: hash and rewrite those (once, at open). */
  async migrateClearKeys(): Promise<void> {
    const res = await this.view<null>('subjects', { include_docs: true });
    for (const r of res.rows) {
      if (r.doc?.kind !== 'subject') continue;
      const migrated = migrateClearKeys(r.doc.subject);
      if (migrated) await this.upsert(r.doc._id, { kind: 'subject', subject: migrated, at: r.doc.at } as Omit<SubjectDoc, '_id' | '_rev'>);
    }
  }
}
