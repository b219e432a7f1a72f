/**
 * StateStore on CouchDB (database `<prefix>feedstate`). Leases use CouchDB's revisions as the
 * compare-and-set: a holder writes the lease document over the revision it read, and a concurrent
 * writer gets 409 and loses, so two controllers cannot both take an expired lease.
 */
import nano from 'nano';
import type { StateStore } from '@whirl/core';

type Doc = { _id: string; _rev?: string; body: unknown };
type LeaseDoc = { _id: string; _rev?: string; body: { holder: string; expires: number } };

function statusOf(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null ? (e as { statusCode?: number }).statusCode : undefined;
}

export async function openCouchStateStore(url: string, opts: { prefix?: string } = {}): Promise<StateStore> {
  const server = nano({ url });
  const name = `${opts.prefix ?? ''}feedstate`;
  try {
    await server.db.create(name);
  } catch (e) {
    if (statusOf(e) !== 412) throw e;
  }
  const db = server.use<Doc>(name);
  const read = async (id: string): Promise<Doc | undefined> => {
    try {
      return await db.get(id);
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  };
  const leaseId = (n: string): string => `lease:${n}`;
  return {
    async get<T>(id: string) {
      return (await read(id))?.body as T | undefined;
    },
    async put(id, body) {
      // Each document has one writer at a time (the lifecycle call or the lease holder), so a
      // conflict is only a read that raced its own previous write: read again and retry.
      for (let attempt = 0; ; attempt++) {
        const cur = await read(id);
        try {
          await db.insert({ _id: id, ...(cur?._rev ? { _rev: cur._rev } : {}), body });
          return;
        } catch (e) {
          if (statusOf(e) !== 409 || attempt > 3) throw e;
        }
      }
    },
    async delete(id) {
      const cur = await read(id);
      if (!cur?._rev) return false;
      try {
        await db.destroy(id, cur._rev);
      } catch (e) {
        if (statusOf(e) === 404) return false;
        throw e;
      }
      return true;
    },
    async list<T>(prefix: string) {
      const r = await db.list({ include_docs: true, startkey: prefix, endkey: `${prefix}\ufff0` });
      return r.rows.flatMap((row) => (row.doc ? [{ id: row.id, doc: row.doc.body as T }] : []));
    },
    async acquireLease(n, holder, ttlMs, now) {
      const cur = (await read(leaseId(n))) as LeaseDoc | undefined;
      if (cur && cur.body.holder !== holder && cur.body.expires > now) return false;
      try {
        await db.insert({ _id: leaseId(n), ...(cur?._rev ? { _rev: cur._rev } : {}), body: { holder, expires: now + ttlMs } });
        return true;
      } catch (e) {
        if (statusOf(e) === 409) return false;
        throw e;
      }
    },
    async releaseLease(n, holder) {
      const cur = (await read(leaseId(n))) as LeaseDoc | undefined;
      if (!cur?._rev || cur.body.holder !== holder) return;
      await db.destroy(cur._id, cur._rev).catch(() => undefined);
    },
    async close() {},
  };
}
