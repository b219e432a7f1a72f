/**
 * ScheduleStore on CouchDB (database `<prefix>schedules`), so that alarm schedules of a distributed
 * deployment survive restarts like everything else in CouchDB. One document per schedule; a put
 * retries once on a revision conflict (the alarm service is the only writer of its schedules).
 */
import nano from 'nano';
import type { AlarmSchedule, ScheduleStore } from '@whirl/core';

type Doc = { _id: string; _rev?: string; schedule: AlarmSchedule };

function statusOf(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null ? (e as { statusCode?: number }).statusCode : undefined;
}

export async function openCouchScheduleStore(url: string, opts: { prefix?: string } = {}): Promise<ScheduleStore> {
  const server = nano({ url });
  const name = `${opts.prefix ?? ''}schedules`;
  try {
    await server.db.create(name);
  } catch (e) {
    if (statusOf(e) !== 412) throw e;
  }
  const db = server.use<Doc>(name);
  const get = async (id: string): Promise<Doc | undefined> => {
    try {
      return await db.get(id);
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  };
  return {
    async get(id) {
      return (await get(id))?.schedule;
    },
    async put(schedule) {
      for (let attempt = 0; ; attempt++) {
        const current = await get(schedule.id);
        try {
          await db.insert({ _id: schedule.id, ...(current?._rev ? { _rev: current._rev } : {}), schedule });
          return;
        } catch (e) {
          if (statusOf(e) !== 409 || attempt > 2) throw e;
        }
      }
    },
    async delete(id) {
      const current = await get(id);
      if (!current?._rev) return false;
      await db.destroy(id, current._rev);
      return true;
    },
    async list() {
      const r = await db.list({ include_docs: true });
      return r.rows.flatMap((row) => (row.doc && !row.id.startsWith('_design/') ? [row.doc.schedule] : []));
    },
    async close() {},
  };
}
