/**
 * Embedded store adapters: entities, activations and subjects in one SQLite file. better-sqlite3 is
 * synchronous, so every method does its work before returning a settled promise; the async signatures
 * exist so the CouchDB adapter can share the ports. The exception is the retention sweeper's
 * `deleteOlderThan` on a file, which runs on a worker thread (sqlite-retention.ts).
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { openSqliteFile } from './sqlite-file.js';
import { SqliteRetentionWorker } from './sqlite-retention.js';
import {
  ConflictError,
  Messages,
  NotFoundError,
  USAGE_BUCKET_MS,
  addUsage,
  usageOf,
  usageRanges,
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

type Db = Database.Database;

export type SqliteStores = Stores;

/**
 * Each step upgrades the schema by one `user_version`. Never edit a shipped step: existing files have
 * already run it, so a change needs a new step.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE entities (
    doc_id      TEXT PRIMARY KEY,
    entity_type TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    root_ns     TEXT NOT NULL,
    updated     INTEGER NOT NULL,
    published   INTEGER NOT NULL,
    rev         TEXT NOT NULL,
    body        TEXT NOT NULL
  );
  CREATE INDEX entities_by_ns ON entities (entity_type, namespace, updated DESC, doc_id);
  CREATE INDEX entities_by_root ON entities (entity_type, root_ns, updated DESC, doc_id);

  CREATE TABLE activations (
    doc_id        TEXT PRIMARY KEY,
    namespace     TEXT NOT NULL,
    activation_id TEXT NOT NULL,
    start         INTEGER NOT NULL,
    name_key      TEXT NOT NULL,
    binding_key   TEXT,
    body          TEXT NOT NULL
  );
  CREATE INDEX activations_by_start ON activations (namespace, start DESC, activation_id DESC);
  CREATE INDEX activations_by_name ON activations (namespace, name_key, start DESC, activation_id DESC);
  CREATE INDEX activations_by_binding ON activations (namespace, binding_key, start DESC, activation_id DESC)
    WHERE binding_key IS NOT NULL;

  CREATE TABLE subjects (
    subject TEXT PRIMARY KEY,
    blocked INTEGER NOT NULL,
    body    TEXT NOT NULL
  );
  CREATE TABLE credentials (
    uuid      TEXT NOT NULL,
    key       TEXT NOT NULL,
    namespace TEXT NOT NULL,
    subject   TEXT NOT NULL REFERENCES subjects (subject) ON DELETE CASCADE,
    PRIMARY KEY (uuid, key, namespace)
  );
  CREATE INDEX credentials_by_subject ON credentials (subject);

  CREATE TABLE namespace_limits (
    namespace TEXT PRIMARY KEY,
    body      TEXT NOT NULL
  );
  `,
  /*
   * Usage metering: each record's contribution (core's usageOf) in columns, and per-namespace, -action,
   * -hour sums kept by triggers, so that an upsert replaces the record's earlier contribution. Records
   * stored before this step carry no contribution (usage_action NULL) and are not counted.
   */
  `
  ALTER TABLE activations ADD COLUMN usage_action TEXT;
  ALTER TABLE activations ADD COLUMN usage_errors INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE activations ADD COLUMN usage_ms INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE activations ADD COLUMN usage_mb_ms INTEGER NOT NULL DEFAULT 0;

  -- Covers the partial hours at the ends of a range, so reading them touches no table rows.
  CREATE INDEX activations_usage ON activations (namespace, start, usage_action, usage_errors, usage_ms, usage_mb_ms)
    WHERE usage_action IS NOT NULL;

  CREATE TABLE usage_buckets (
    namespace   TEXT NOT NULL,
    bucket      INTEGER NOT NULL,
    action      TEXT NOT NULL,
    invocations INTEGER NOT NULL,
    errors      INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    mb_ms       INTEGER NOT NULL,
    PRIMARY KEY (namespace, bucket, action)
  ) WITHOUT ROWID;

  CREATE TRIGGER activations_usage_insert AFTER INSERT ON activations WHEN NEW.usage_action IS NOT NULL
  BEGIN
    INSERT INTO usage_buckets VALUES (NEW.namespace, NEW.start / ${USAGE_BUCKET_MS}, NEW.usage_action, 1, NEW.usage_errors, NEW.usage_ms, NEW.usage_mb_ms)
      ON CONFLICT (namespace, bucket, action) DO UPDATE SET invocations = invocations + 1, errors = errors + excluded.errors,
        duration_ms = duration_ms + excluded.duration_ms, mb_ms = mb_ms + excluded.mb_ms;
  END;

  CREATE TRIGGER activations_usage_retract AFTER UPDATE ON activations WHEN OLD.usage_action IS NOT NULL
  BEGIN
    UPDATE usage_buckets SET invocations = invocations - 1, errors = errors - OLD.usage_errors,
        duration_ms = duration_ms - OLD.usage_ms, mb_ms = mb_ms - OLD.usage_mb_ms
      WHERE namespace = OLD.namespace AND bucket = OLD.start / ${USAGE_BUCKET_MS} AND action = OLD.usage_action;
  END;

  CREATE TRIGGER activations_usage_replace AFTER UPDATE ON activations WHEN NEW.usage_action IS NOT NULL
  BEGIN
    INSERT INTO usage_buckets VALUES (NEW.namespace, NEW.start / ${USAGE_BUCKET_MS}, NEW.usage_action, 1, NEW.usage_errors, NEW.usage_ms, NEW.usage_mb_ms)
      ON CONFLICT (namespace, bucket, action) DO UPDATE SET invocations = invocations + 1, errors = errors + excluded.errors,
        duration_ms = duration_ms + excluded.duration_ms, mb_ms = mb_ms + excluded.mb_ms;
  END;
  `,
  // Keys are hashed at rest: credentials index uuids only (rebuilt from the subjects by rehashSubjects).
  `
  DROP TABLE credentials;
  CREATE TABLE credentials (
    uuid      TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    subject   TEXT NOT NULL REFERENCES subjects (subject) ON DELETE CASCADE
  );
  CREATE INDEX credentials_by_subject ON credentials (subject);
  `,
];

/** Returns the version the file had before. */
function migrate(db: Db): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`store schema version ${version} is newer than this build understands (${MIGRATIONS.length})`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return version;
}

/**
 * Subjects written before keys were hashed keep them in the clear: hash each such key and re-index
 * every credential (the version-3 table starts empty). Runs once, in one transaction, at open.
 */
function rehashSubjects(db: Db): void {
  const rows = db.prepare<[], { subject: string; blocked: number; body: string }>('SELECT subject, blocked, body FROM subjects').all();
  const update = db.prepare<[string, string]>('UPDATE subjects SET body = ? WHERE subject = ?');
  const insert = db.prepare<[string, string, string]>('INSERT OR REPLACE INTO credentials (uuid, namespace, subject) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const row of rows) {
      const old = JSON.parse(row.body) as Subject;
      const s = migrateClearKeys(old) ?? old;
      update.run(JSON.stringify(s), row.subject);
      for (const ns of s.namespaces) insert.run(ns.uuid, ns.name, s.subject);
    }
  })();
}

export interface SqliteStoreOptions {
  /**
   * Run `activations.deleteOlderThan` on a worker thread with its own connection (sqlite-retention.ts);
   * default: yes for a file, no for ':memory:' (a second connection would see another, empty database).
   */
  retentionOffThread?: boolean;
}

export function openSqliteStores(path: string, opts: SqliteStoreOptions = {}): SqliteStores {
  const inMemory = path === ':memory:' || path === '';
  const offThread = !inMemory && (opts.retentionOffThread ?? true);
  const db = openSqliteFile(path);
  try {
    db.pragma('foreign_keys = ON');
    if (migrate(db) < 3) rehashSubjects(db);
  } catch (e) {
    db.close();
    throw e;
  }

  let open = 3;
  const release = (): void => {
    open -= 1;
    if (open === 0 && db.open) db.close();
  };
  const entities = new SqliteEntityStore(db, release);
  const activations = new SqliteActivationStore(db, release, offThread ? new SqliteRetentionWorker(path) : undefined);
  const subjects = new SqliteSubjectStore(db, release);
  return {
    entities,
    activations,
    subjects,
    async close() {
      await Promise.all([entities.close(), activations.close(), subjects.close()]);
    },
  };
}

/** Shared by the three stores: each releases its share of the connection once. */
abstract class SqliteStoreBase {
  private released = false;
  constructor(
    protected readonly db: Db,
    private readonly release: () => void,
  ) {}

  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.release();
  }
}

/** CouchDB-style `<generation>-<random>` so revisions look familiar and never repeat. */
function nextRev(prev?: string): string {
  const gen = prev === undefined ? 0 : Number.parseInt(prev, 10) || 0;
  return `${gen + 1}-${randomBytes(16).toString('hex')}`;
}

function rootNamespace(namespace: string): string {
  const i = namespace.indexOf('/');
  return i < 0 ? namespace : namespace.slice(0, i);
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

interface EntityRow {
  rev: string;
  body: string;
}

class SqliteEntityStore extends SqliteStoreBase implements EntityStore {
  private readonly getStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly deleteStmt;
  private readonly existsStmt;
  private readonly listStmts = new Map<string, Database.Statement<unknown[], { body: string }>>();
  private readonly countStmts = new Map<string, Database.Statement<unknown[], { n: number }>>();
  private readonly deleteTx;
  private readonly deleteNamespaceTx;

  constructor(db: Db, release: () => void) {
    super(db, release);
    const idsOfRoot = db.prepare<[string], { doc_id: string }>('SELECT doc_id FROM entities WHERE root_ns = ?');
    const deleteRoot = db.prepare<[string]>('DELETE FROM entities WHERE root_ns = ?');
    this.deleteNamespaceTx = db.transaction((ns: string) => {
      const ids = idsOfRoot.all(ns).map((r) => r.doc_id);
      deleteRoot.run(ns);
      return ids;
    });
    this.getStmt = db.prepare<[string], EntityRow>('SELECT rev, body FROM entities WHERE doc_id = ?');
    this.existsStmt = db.prepare<[string], { one: number }>('SELECT 1 AS one FROM entities WHERE doc_id = ?');
    this.insertStmt = db.prepare<[string, string, string, string, number, number, string, string]>(
      `INSERT INTO entities (doc_id, entity_type, namespace, root_ns, updated, published, rev, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateStmt = db.prepare<[string, string, string, number, number, string, string, string, string]>(
      `UPDATE entities SET entity_type = ?, namespace = ?, root_ns = ?, updated = ?, published = ?, rev = ?, body = ?
       WHERE doc_id = ? AND rev = ?`,
    );
    this.deleteStmt = db.prepare<[string, string]>('DELETE FROM entities WHERE doc_id = ? AND rev = ?');
    this.deleteTx = db.transaction((docId: string, rev: string) => {
      if (this.deleteStmt.run(docId, rev).changes > 0) return;
      if (this.existsStmt.get(docId)) throw new ConflictError();
      throw new NotFoundError();
    });
  }

  async get(docId: string): Promise<Revisioned<WhiskEntity> | undefined> {
    const row = this.getStmt.get(docId);
    return row ? { rev: row.rev, doc: JSON.parse(row.body) as WhiskEntity } : undefined;
  }

  async create(doc: WhiskEntity): Promise<Revisioned<WhiskEntity>> {
    const rev = nextRev();
    try {
      this.insertStmt.run(
        `${doc.namespace}/${doc.name}`,
        doc.entityType,
        doc.namespace,
        rootNamespace(doc.namespace),
        doc.updated,
        doc.publish ? 1 : 0,
        rev,
        JSON.stringify(doc),
      );
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(Messages.exists);
      throw e;
    }
    return { rev, doc };
  }

  async update(doc: WhiskEntity, rev: string): Promise<Revisioned<WhiskEntity>> {
    const next = nextRev(rev);
    const changed = this.updateStmt.run(
      doc.entityType,
      doc.namespace,
      rootNamespace(doc.namespace),
      doc.updated,
      doc.publish ? 1 : 0,
      next,
      JSON.stringify(doc),
      `${doc.namespace}/${doc.name}`,
      rev,
    ).changes;
    // A missing document is a conflict too: the caller's revision no longer names anything current.
    if (changed === 0) throw new ConflictError();
    return { rev: next, doc };
  }

  async delete(docId: string, rev: string): Promise<void> {
    this.deleteTx(docId, rev);
  }

  async deleteNamespace(namespace: string): Promise<string[]> {
    return this.deleteNamespaceTx(namespace);
  }

  async list(q: EntityListQuery): Promise<WhiskEntity[]> {
    const { where, params } = entityFilter(q);
    let stmt = this.listStmts.get(where);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], { body: string }>(
        `SELECT body FROM entities WHERE ${where} ORDER BY updated DESC, doc_id ASC LIMIT ? OFFSET ?`,
      );
      this.listStmts.set(where, stmt);
    }
    return stmt.all(...params, q.limit, q.skip).map((r) => JSON.parse(r.body) as WhiskEntity);
  }

  async count(q: Omit<EntityListQuery, 'limit' | 'skip'>): Promise<number> {
    const { where, params } = entityFilter(q);
    let stmt = this.countStmts.get(where);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM entities WHERE ${where}`);
      this.countStmts.set(where, stmt);
    }
    return stmt.get(...params)?.n ?? 0;
  }
}

/** The WHERE clause comes from a fixed set of shapes, so it doubles as the statement cache key. */
function entityFilter(q: Omit<EntityListQuery, 'limit' | 'skip'>): { where: string; params: unknown[] } {
  // Only a root namespace has packages below it; `ns/pkg` with includePackages is just `ns/pkg`.
  const byRoot = q.includePackages === true && !q.namespace.includes('/');
  let where = byRoot ? 'entity_type = ? AND root_ns = ?' : 'entity_type = ? AND namespace = ?';
  if (q.publishedOnly) where += ' AND published = 1';
  return { where, params: [q.entityType, q.namespace] };
}

// Open bounds as numbers rather than separate statements per combination of since/upto.
/** The connection's busy_timeout (sqlite-file.ts), restored after a write that asked without waiting. */
const BUSY_TIMEOUT_MS = 5000;

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

const MIN_TIME = Number.MIN_SAFE_INTEGER;
const MAX_TIME = Number.MAX_SAFE_INTEGER;

class SqliteActivationStore extends SqliteStoreBase implements ActivationStore {
  private readonly upsertStmt;
  private readonly insertNewStmt;
  private readonly getStmt;
  private readonly listAll;
  private readonly listByName;
  private readonly countAll;
  private readonly countByName;
  private readonly putTx;
  private readonly usageBuckets;
  private readonly usageEdge;
  private readonly namespacesStmt;
  private readonly deleteOldStmt;

  constructor(
    db: Db,
    release: () => void,
    private readonly retentionWorker?: SqliteRetentionWorker,
  ) {
    super(db, release);
    // One insert, two answers to an id already there: replace it (put), or keep it (keepExisting).
    const insert = `INSERT INTO activations (doc_id, namespace, activation_id, start, name_key, binding_key, body, usage_action, usage_errors, usage_ms, usage_mb_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    type InsertArgs = [string, string, string, number, string, string | null, string, string | null, number, number, number];
    this.upsertStmt = db.prepare<InsertArgs>(
      `${insert}
       ON CONFLICT (doc_id) DO UPDATE SET start = excluded.start, name_key = excluded.name_key,
         binding_key = excluded.binding_key, body = excluded.body, usage_action = excluded.usage_action,
         usage_errors = excluded.usage_errors, usage_ms = excluded.usage_ms, usage_mb_ms = excluded.usage_mb_ms`,
    );
    this.insertNewStmt = db.prepare<InsertArgs>(`${insert} ON CONFLICT (doc_id) DO NOTHING`);
    this.usageBuckets = db.prepare<[string, number, number], UsageRow>(
      `SELECT action, SUM(invocations) AS invocations, SUM(errors) AS errors, SUM(duration_ms) AS durationMs, SUM(mb_ms) AS mbMs
       FROM usage_buckets WHERE namespace = ? AND bucket >= ? AND bucket <= ? GROUP BY action`,
    );
    this.usageEdge = db.prepare<[string, number, number], UsageRow>(
      `SELECT usage_action AS action, COUNT(*) AS invocations, SUM(usage_errors) AS errors, SUM(usage_ms) AS durationMs, SUM(usage_mb_ms) AS mbMs
       FROM activations INDEXED BY activations_usage WHERE namespace = ? AND start >= ? AND start <= ? AND usage_action IS NOT NULL
       GROUP BY usage_action`,
    );
    this.getStmt = db.prepare<[string], { body: string }>('SELECT body FROM activations WHERE doc_id = ?');
    const range = 'namespace = ? AND start >= ? AND start <= ?';
    const order = 'ORDER BY start DESC, activation_id DESC LIMIT ? OFFSET ?';
    /*
     * A UNION of two index scans, both already in `start` order, lets SQLite merge them and stop at
     * LIMIT instead of sorting every match of a busy action. INDEXED BY because an unanalysed
     * database otherwise picks the by-start index and filters the whole namespace.
     */
    const byName = `SELECT start, activation_id, doc_id FROM activations INDEXED BY activations_by_name WHERE ${range} AND name_key = ?
       UNION SELECT start, activation_id, doc_id FROM activations INDEXED BY activations_by_binding WHERE ${range} AND binding_key = ?`;
    this.listAll = db.prepare<[string, number, number, number, number], { body: string }>(
      `SELECT body FROM activations WHERE ${range} ${order}`,
    );
    this.listByName = db.prepare<[string, number, number, string, string, number, number, string, number, number], { body: string }>(
      `SELECT a.body AS body FROM (${byName} ${order}) k JOIN activations a ON a.doc_id = k.doc_id
       ORDER BY k.start DESC, k.activation_id DESC`,
    );
    this.countAll = db.prepare<[string, number, number], { n: number }>(`SELECT COUNT(*) AS n FROM activations WHERE ${range}`);
    this.countByName = db.prepare<[string, number, number, string, string, number, number, string], { n: number }>(
      `SELECT COUNT(*) AS n FROM (${byName})`,
    );
    // A skip-scan over the by-start index: one seek per namespace instead of reading every record.
    this.namespacesStmt = db.prepare<[], { n: string }>(
      `WITH RECURSIVE ns(n) AS (
         SELECT (SELECT MIN(namespace) FROM activations)
         UNION ALL SELECT (SELECT MIN(namespace) FROM activations WHERE namespace > ns.n) FROM ns WHERE ns.n IS NOT NULL)
       SELECT n FROM ns WHERE n IS NOT NULL`,
    );
    // Oldest first along the by-start index, so each batch is a short range scan, never a table scan.
    this.deleteOldStmt = db.prepare<[string, number, number]>(
      `DELETE FROM activations WHERE doc_id IN (
         SELECT doc_id FROM activations INDEXED BY activations_by_start WHERE namespace = ? AND start < ? ORDER BY start ASC LIMIT ?)`,
    );
    this.putTx = db.transaction((records: readonly ActivationRecord[], keepExisting: boolean) => {
      const stmt = keepExisting ? this.insertNewStmt : this.upsertStmt;
      for (const r of records) {
        const { nameKey, bindingKey } = activationKeys(r);
        const u = usageOf(r);
        stmt.run(
          `${r.namespace}/${r.activationId}`,
          r.namespace,
          r.activationId,
          r.start,
          nameKey,
          bindingKey,
          JSON.stringify(r),
          u?.action ?? null,
          u?.errors ?? 0,
          u?.durationMs ?? 0,
          u?.mbMs ?? 0,
        );
      }
    });
  }

  async put(records: readonly ActivationRecord[], options: { keepExisting?: boolean } = {}): Promise<void> {
    if (records.length === 0) return;
    const keepExisting = options.keepExisting === true;
    if (!this.retentionWorker) {
      this.putTx(records, keepExisting);
      return;
    }
    // The retention worker's connection may hold the write lock for a delete batch. Waiting for it in
    // busy_timeout would block this thread (better-sqlite3 is synchronous), and every invoke with it:
    // ask without waiting instead, and try again a moment later with the event loop free meanwhile.
    // Past ~2 s the error goes to the caller (the activation writer retries with its own back-off).
    for (let attempt = 0; ; attempt++) {
      this.db.pragma('busy_timeout = 0');
      try {
        this.putTx(records, keepExisting);
        return;
      } catch (e) {
        if (!isBusy(e) || attempt >= 200) throw e;
      } finally {
        this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(1 + attempt, 10)));
    }
  }

  async get(namespace: string, activationId: string): Promise<ActivationRecord | undefined> {
    const row = this.getStmt.get(`${namespace}/${activationId}`);
    return row ? (JSON.parse(row.body) as ActivationRecord) : undefined;
  }

  async missing(keys: readonly { namespace: string; activationId: string }[]): Promise<{ namespace: string; activationId: string }[]> {
    const out: { namespace: string; activationId: string }[] = [];
    // Chunks below SQLite's bound-parameter limit.
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const ids = chunk.map((k) => `${k.namespace}/${k.activationId}`);
      const rows = this.db.prepare<string[], { doc_id: string }>(`SELECT doc_id FROM activations WHERE doc_id IN (${ids.map(() => '?').join(',')})`).all(...ids);
      const present = new Set(rows.map((r) => r.doc_id));
      chunk.forEach((k, j) => {
        if (!present.has(ids[j]!)) out.push({ namespace: k.namespace, activationId: k.activationId });
      });
    }
    return out;
  }

  async list(q: ActivationListQuery): Promise<ActivationRecord[]> {
    const since = q.since ?? MIN_TIME;
    const upto = q.upto ?? MAX_TIME;
    const rows =
      q.name === undefined
        ? this.listAll.all(q.namespace, since, upto, q.limit, q.skip)
        : this.listByName.all(q.namespace, since, upto, q.name, q.namespace, since, upto, q.name, q.limit, q.skip);
    return rows.map((r) => JSON.parse(r.body) as ActivationRecord);
  }

  async count(q: Omit<ActivationListQuery, 'limit' | 'skip'>): Promise<number> {
    const since = q.since ?? MIN_TIME;
    const upto = q.upto ?? MAX_TIME;
    const row =
      q.name === undefined
        ? this.countAll.get(q.namespace, since, upto)
        : this.countByName.get(q.namespace, since, upto, q.name, q.namespace, since, upto, q.name);
    return row?.n ?? 0;
  }

  /** Whole hours from the buckets, the partial hours at either end from the records (one index range each). */
  async usage(q: UsageQuery): Promise<ActionUsage[]> {
    const { buckets, edges } = usageRanges(q.since ?? MIN_TIME, q.upto ?? MAX_TIME);
    const rows: UsageRow[] = [];
    this.db.transaction(() => {
      if (buckets) rows.push(...this.usageBuckets.all(q.namespace, buckets.first, buckets.last));
      for (const e of edges) rows.push(...this.usageEdge.all(q.namespace, e.since, e.upto));
    })();
    return mergeUsage(rows);
  }

  async namespaces(): Promise<string[]> {
    return this.namespacesStmt.all().map((r) => r.n);
  }

  async deleteOlderThan(namespace: string, before: number, limit: number): Promise<number> {
    if (this.retentionWorker) return this.retentionWorker.deleteOlderThan(namespace, before, limit);
    return this.deleteOldStmt.run(namespace, before, limit).changes;
  }

  override async close(): Promise<void> {
    await this.retentionWorker?.close();
    await super.close();
  }
}

interface UsageRow {
  action: string;
  invocations: number;
  errors: number;
  durationMs: number;
  mbMs: number;
}

function mergeUsage(rows: readonly UsageRow[]): ActionUsage[] {
  const by = new Map<string, ActionUsage>();
  for (const r of rows) {
    const cur = by.get(r.action);
    if (cur) addUsage(cur, r);
    else by.set(r.action, { action: r.action, invocations: r.invocations, errors: r.errors, durationMs: r.durationMs, mbMs: r.mbMs });
  }
  return [...by.values()].filter((u) => u.invocations > 0).sort((a, b) => (a.action < b.action ? -1 : a.action > b.action ? 1 : 0));
}

class SqliteSubjectStore extends SqliteStoreBase implements SubjectStore {
  private readonly credentialStmt;
  private readonly getSubjectStmt;
  private readonly upsertSubjectStmt;
  private readonly deleteSubjectStmt;
  private readonly listSubjectsStmt;
  private readonly deleteCredsStmt;
  private readonly insertCredStmt;
  private readonly getLimitsStmt;
  private readonly putLimitsStmt;
  private readonly deleteLimitsStmt;
  private readonly listLimitsStmt;
  private readonly putSubjectTx;

  constructor(db: Db, release: () => void) {
    super(db, release);
    this.credentialStmt = db.prepare<[string], { body: string }>(
      'SELECT s.body AS body FROM credentials c JOIN subjects s ON s.subject = c.subject WHERE c.uuid = ?',
    );
    this.getSubjectStmt = db.prepare<[string], { body: string }>('SELECT body FROM subjects WHERE subject = ?');
    this.upsertSubjectStmt = db.prepare<[string, number, string]>(
      `INSERT INTO subjects (subject, blocked, body) VALUES (?, ?, ?)
       ON CONFLICT (subject) DO UPDATE SET blocked = excluded.blocked, body = excluded.body`,
    );
    this.deleteSubjectStmt = db.prepare<[string]>('DELETE FROM subjects WHERE subject = ?');
    this.listSubjectsStmt = db.prepare<[number, number], { body: string }>('SELECT body FROM subjects ORDER BY subject LIMIT ? OFFSET ?');
    this.deleteCredsStmt = db.prepare<[string]>('DELETE FROM credentials WHERE subject = ?');
    // A uuid moved to another subject follows its newest owner.
    this.insertCredStmt = db.prepare<[string, string, string]>('INSERT OR REPLACE INTO credentials (uuid, namespace, subject) VALUES (?, ?, ?)');
    this.getLimitsStmt = db.prepare<[string], { body: string }>('SELECT body FROM namespace_limits WHERE namespace = ?');
    this.putLimitsStmt = db.prepare<[string, string]>(
      'INSERT INTO namespace_limits (namespace, body) VALUES (?, ?) ON CONFLICT (namespace) DO UPDATE SET body = excluded.body',
    );
    this.deleteLimitsStmt = db.prepare<[string]>('DELETE FROM namespace_limits WHERE namespace = ?');
    this.listLimitsStmt = db.prepare<[], { namespace: string; body: string }>('SELECT namespace, body FROM namespace_limits ORDER BY namespace');
    this.putSubjectTx = db.transaction((s: Subject) => {
      this.upsertSubjectStmt.run(s.subject, s.blocked ? 1 : 0, JSON.stringify(s));
      this.deleteCredsStmt.run(s.subject);
      for (const ns of s.namespaces) this.insertCredStmt.run(ns.uuid, ns.name, s.subject);
    });
  }

  async credential(uuid: string): Promise<{ subject: Subject; credential: StoredCredential } | undefined> {
    const row = this.credentialStmt.get(uuid);
    if (!row) return undefined;
    const subject = JSON.parse(row.body) as Subject;
    const credential = subject.namespaces.find((n) => n.uuid === uuid);
    return credential ? { subject, credential } : undefined;
  }

  async getSubject(subject: string): Promise<Subject | undefined> {
    const row = this.getSubjectStmt.get(subject);
    return row ? (JSON.parse(row.body) as Subject) : undefined;
  }

  async putSubject(subject: Subject): Promise<void> {
    this.putSubjectTx(subject);
  }

  async deleteSubject(subject: string): Promise<boolean> {
    return this.deleteSubjectStmt.run(subject).changes > 0;
  }

  async listSubjects(q: { limit: number; skip: number }): Promise<Subject[]> {
    return this.listSubjectsStmt.all(q.limit, q.skip).map((r) => JSON.parse(r.body) as Subject);
  }

  async getLimits(namespace: string): Promise<Partial<UserLimits>> {
    const row = this.getLimitsStmt.get(namespace);
    return row ? (JSON.parse(row.body) as Partial<UserLimits>) : {};
  }

  async putLimits(namespace: string, limits: Partial<UserLimits>): Promise<void> {
    this.putLimitsStmt.run(namespace, JSON.stringify(limits));
  }

  async deleteLimits(namespace: string): Promise<void> {
    this.deleteLimitsStmt.run(namespace);
  }

  async listLimits(): Promise<{ namespace: string; limits: Partial<UserLimits> }[]> {
    return this.listLimitsStmt.all().map((r) => ({ namespace: r.namespace, limits: JSON.parse(r.body) as Partial<UserLimits> }));
  }
}
