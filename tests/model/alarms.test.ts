/**
 * Feeds and the alarms service end to end: `/whisk.system/alarms/{alarm,once,interval}` driven by the
 * official client's `feeds` API and plain blocking invokes, against a real standalone that is
 * restarted on the same data directory.
 */
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startStandalone, waitFor, type RunningStandalone } from '../helpers/standalone.js';
import { addTenant } from './tenant.js';

let s: RunningStandalone;
let ow: ReturnType<typeof openwhisk>;
let alice: { apiHost: string; auth: string };
const env = { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false' };
const echo = 'function main(params) { return params; }';

interface Activation {
  activationId: string;
  name: string;
  namespace: string;
  logs: string[];
  response: { success: boolean; status: string; result: Record<string, unknown> };
}

/** The client's typings omit feeds.get/update; all four resolve to the feed action's activation. */
interface FeedsApi {
  create(o: { name: string; trigger: string; params?: Record<string, unknown> }): Promise<Activation>;
  get(o: { name: string; trigger: string; params?: Record<string, unknown> }): Promise<Activation>;
  update(o: { name: string; trigger: string; params?: Record<string, unknown> }): Promise<Activation>;
  delete(o: { name: string; trigger: string; params?: Record<string, unknown> }): Promise<Activation>;
}
const feeds = (): FeedsApi => ow.feeds as unknown as FeedsApi;

async function start(dataDir?: string): Promise<void> {
  s = await startStandalone({ env, ...(dataDir !== undefined ? { dataDir } : {}) });
  ow = openwhisk({ apihost: s.apiHost, api_key: s.auth });
}

beforeAll(async () => {
  await start();
  alice = { apiHost: s.apiHost, auth: await addTenant(s.dataDir, 'alice') };
  await http(alice, 'PUT', '/api/v1/namespaces/_/triggers/theirs', { body: {} });
  await ow.actions.create({ name: 'echo', action: echo });
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

const fires = async (trigger: string): Promise<number> =>
  ((await http(s, 'GET', `/api/v1/namespaces/_/activations?name=${trigger}&count=true`)).body as { activations: number }).activations;

async function triggerWithRule(name: string): Promise<void> {
  await ow.triggers.create({ name } as never);
  await ow.rules.create({ name: `${name}-rule`, trigger: name, action: 'echo' });
}

type Feed = 'alarm' | 'once' | 'interval';
/** A plain blocking invoke of a feed action, for the cases the client hides. */
const feedCall = (feed: Feed, params: Record<string, unknown>, who: { apiHost: string; auth: string } = s) =>
  http(who, 'POST', `/api/v1/namespaces/whisk.system/actions/alarms/${feed}?blocking=true`, { body: { authKey: who.auth, ...params } });

describe('alarm feed', () => {
  it('fires a 6-field cron at least twice within 5 s, survives a restart, and stops after DELETE', async () => {
    await triggerWithRule('tick');
    const created = await feeds().create({ name: '/whisk.system/alarms/alarm', trigger: 'tick', params: { cron: '*/1 * * * * *', trigger_payload: 'hi' } });
    expect(created.response.success).toBe(true);
    expect(created.namespace).toBe('guest');

    await waitFor('two fires', async () => ((await fires('tick')) >= 2 ? true : undefined), 5000);
    const list = (await http(s, 'GET', '/api/v1/namespaces/_/activations?name=tick&docs=true&limit=1')).body as Activation[];
    expect(list[0]!.response.result).toEqual({ payload: 'hi' });
    const line = JSON.parse(list[0]!.logs[0]!) as { activationId: string; rule: string };
    expect(line.rule).toBe('guest/tick-rule');
    const invoked = await waitFor('rule activation', async () => {
      const r = await http(s, 'GET', `/api/v1/namespaces/_/activations/${line.activationId}`);
      return r.status === 200 ? (r.body as Activation) : undefined;
    });
    expect(invoked.response.result).toMatchObject({ payload: 'hi' });

    const read = await feeds().get({ name: '/whisk.system/alarms/alarm', trigger: 'tick' });
    expect(read.response.result).toMatchObject({
      config: { name: 'tick', namespace: 'guest', cron: '*/1 * * * * *', payload: { payload: 'hi' } },
      status: { active: true },
    });

    const updated = await feeds().update({ name: '/whisk.system/alarms/alarm', trigger: 'tick', params: { cron: '*/1 * * * * *', trigger_payload: { msg: 'again' } } });
    expect(updated.response.success).toBe(true);

    // Restart on the same data directory: the schedule is in the store.
    const dataDir = s.dataDir;
    expect(await s.stop({ keepData: true })).toBe(0);
    await start(dataDir);
    const afterRestart = await fires('tick');
    await waitFor('fires after the restart', async () => ((await fires('tick')) >= afterRestart + 2 ? true : undefined), 6000);
    const latest = (await http(s, 'GET', '/api/v1/namespaces/_/activations?name=tick&docs=true&limit=1')).body as Activation[];
    expect(latest[0]!.response.result).toEqual({ msg: 'again' });

    const deleted = await feeds().delete({ name: '/whisk.system/alarms/alarm', trigger: 'tick' });
    expect(deleted.response.success).toBe(true);
    await new Promise((r) => setTimeout(r, 1200));
    const settled = await fires('tick');
    await new Promise((r) => setTimeout(r, 2500));
    expect(await fires('tick')).toBe(settled);

    const gone = await feedCall('alarm', { lifecycleEvent: 'READ', triggerName: '/_/tick' });
    expect(gone.status).toBe(502);
    expect((gone.body as Activation).response.result).toEqual({ error: 'No alarm feed is registered for trigger /guest/tick.' });
  });
});

describe('once and interval feeds', () => {
  it('once fires a single time at its date and deletes the trigger with deleteAfterFire', async () => {
    await ow.triggers.create({ name: 'single' } as never);
    await ow.rules.create({ name: 'single-rule', trigger: 'single', action: 'echo' });
    const r = await feeds().create({ name: '/whisk.system/alarms/once', trigger: 'single', params: { date: new Date(Date.now() + 1500).toISOString(), deleteAfterFire: 'rules' } });
    expect(r.response.success).toBe(true);
    await waitFor('the once fire', async () => ((await fires('single')) === 1 ? true : undefined), 8000);
    await waitFor('trigger deleted', async () => ((await http(s, 'GET', '/api/v1/namespaces/_/triggers/single')).status === 404 ? true : undefined), 5000);
    expect((await http(s, 'GET', '/api/v1/namespaces/_/rules/single-rule')).status).toBe(404);
    await new Promise((res) => setTimeout(res, 1500));
    expect(await fires('single')).toBe(1);
  });

  it('once keeps the trigger by default and reports itself inactive after the fire', async () => {
    await triggerWithRule('keep');
    await feeds().create({ name: '/whisk.system/alarms/once', trigger: 'keep', params: { date: Date.now() + 1000 } });
    await waitFor('the once fire', async () => ((await fires('keep')) === 1 ? true : undefined), 8000);
    const read = await waitFor('inactive', async () => {
      const res = await feeds().get({ name: '/whisk.system/alarms/once', trigger: 'keep' });
      return (res.response.result as { status: { active: boolean } }).status.active ? undefined : res;
    });
    expect(read.response.result).toMatchObject({ config: { deleteAfterFire: 'false' }, status: { active: false, fireCount: 1 } });
    expect((await http(s, 'GET', '/api/v1/namespaces/_/triggers/keep')).status).toBe(200);
    await feeds().delete({ name: '/whisk.system/alarms/once', trigger: 'keep' });
  });

  it('a once alarm that came due while the server was down fires exactly once on start', async () => {
    await triggerWithRule('missed');
    await feeds().create({ name: '/whisk.system/alarms/once', trigger: 'missed', params: { date: Date.now() + 800 } });
    const dataDir = s.dataDir;
    expect(await s.stop({ keepData: true })).toBe(0);
    await new Promise((res) => setTimeout(res, 1000));
    await start(dataDir);
    await waitFor('the made-up fire', async () => ((await fires('missed')) === 1 ? true : undefined), 8000);
    await new Promise((res) => setTimeout(res, 1000));
    expect(await fires('missed')).toBe(1);
  });

  it('interval fires at startDate, then every `minutes`', async () => {
    await triggerWithRule('every');
    const startDate = Date.now() + 1500;
    const r = await feeds().create({ name: '/whisk.system/alarms/interval', trigger: 'every', params: { minutes: 1, startDate, trigger_payload: { n: 1 } } });
    expect(r.response.success).toBe(true);
    await waitFor('the first interval fire', async () => ((await fires('every')) === 1 ? true : undefined), 8000);
    const read = await feeds().get({ name: '/whisk.system/alarms/interval', trigger: 'every' });
    const status = (read.response.result as { status: { nextFire: number; active: boolean } }).status;
    expect(status.active).toBe(true);
    expect(status.nextFire).toBe(startDate + 60_000);
    expect(read.response.result).toMatchObject({ config: { minutes: 1, payload: { n: 1 } } });
    await feeds().delete({ name: '/whisk.system/alarms/interval', trigger: 'every' });
  });
});

describe('bad feed requests', () => {
  it('are application errors with a clear message and change nothing', async () => {
    await ow.triggers.create({ name: 'victim' } as never);
    const soon = Date.now() + 3_600_000;
    const cases: [Feed, Record<string, unknown>, string][] = [
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim' }, 'The alarm feed is missing the cron parameter'],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '* * *' }, "The cron pattern '* * *' is not valid: it has 3 fields"],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '61 * * * *' }, "The cron pattern '61 * * * *' is not valid: minute 61 is outside 0-59"],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '* * * * *', timezone: 'Mars/Olympus' }, "The timezone 'Mars/Olympus' is not a valid IANA time zone"],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '* * * * *', startDate: 'yesterday-ish' }, "The startDate parameter 'yesterday-ish' is not a valid date"],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '* * * * *', stopDate: 1000 }, "The stopDate parameter '1000' must be in the future."],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '* * * * *', stopDate: soon, maxTriggers: 3 }, 'The maxTriggers parameter is not allowed when the stopDate parameter is specified.'],
      ['once', { lifecycleEvent: 'CREATE', triggerName: '/_/victim' }, 'The once feed is missing the date parameter'],
      ['once', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', date: 1000 }, "The date parameter '1000' must be in the future."],
      ['once', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', date: soon, deleteAfterFire: 'maybe' }, "The deleteAfterFire parameter 'maybe' must be one of false, true or rules."],
      ['interval', { lifecycleEvent: 'CREATE', triggerName: '/_/victim' }, 'The interval feed is missing the minutes parameter'],
      ['interval', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', minutes: 0 }, "The minutes parameter '0' must be an integer greater than 0."],
      ['interval', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', minutes: 1.5 }, "The minutes parameter '1.5' must be an integer greater than 0."],
      ['alarm', { triggerName: '/_/victim', cron: '* * * * *' }, 'The lifecycleEvent parameter is missing'],
      ['alarm', { lifecycleEvent: 'EXPLODE', triggerName: '/_/victim', cron: '* * * * *' }, "lifecycleEvent 'EXPLODE' is not supported"],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/nosuch', cron: '* * * * *' }, 'The trigger /guest/nosuch does not exist'],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/echo', cron: '* * * * *' }, 'The trigger /guest/echo does not exist'],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/alice/theirs', cron: '* * * * *' }, 'The trigger /alice/theirs belongs to another namespace'],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: 'victim', cron: '* * * * *' }, "The triggerName 'victim' is not valid"],
      ['alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '* * * * *', authKey: alice.auth }, 'The authKey parameter does not match the credentials of the caller'],
      ['alarm', { lifecycleEvent: 'READ', triggerName: '/_/victim' }, 'No alarm feed is registered for trigger /guest/victim.'],
      ['alarm', { lifecycleEvent: 'UPDATE', triggerName: '/_/victim', cron: '* * * * *' }, 'No alarm feed is registered for trigger /guest/victim.'],
      ['alarm', { lifecycleEvent: 'DELETE', triggerName: '/_/victim' }, 'No alarm feed is registered for trigger /guest/victim.'],
    ];
    for (const [feed, params, error] of cases) {
      const r = await feedCall(feed, params);
      const body = r.body as Activation;
      expect({ feed, params, status: r.status }).toEqual({ feed, params, status: 502 });
      expect(body.response).toMatchObject({ success: false, status: 'application error' });
      expect(body.response.result.error).toContain(error);
    }
    // Missing authKey entirely.
    const noKey = await http(s, 'POST', '/api/v1/namespaces/whisk.system/actions/alarms/alarm?blocking=true', {
      body: { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '* * * * *' },
    });
    expect((noKey.body as Activation).response.result.error).toContain('The authKey parameter is missing');

    // The client reports the failure too.
    await expect(feeds().create({ name: '/whisk.system/alarms/alarm', trigger: 'victim', params: { cron: 'nope' } })).rejects.toMatchObject({ statusCode: 502 });

    // Nothing was registered for the trigger.
    expect((await feedCall('alarm', { lifecycleEvent: 'READ', triggerName: '/_/victim' })).status).toBe(502);

    // With a feed in place, a second CREATE and a bad UPDATE leave it unchanged.
    expect((await feedCall('alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '0 0 1 1 *' })).status).toBe(200);
    const again = await feedCall('alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/victim', cron: '* * * * *' });
    expect((again.body as Activation).response.result.error).toContain('An alarm feed already exists for trigger /guest/victim');
    const badUpdate = await feedCall('alarm', { lifecycleEvent: 'UPDATE', triggerName: '/_/victim', cron: 'x x x x x' });
    expect(badUpdate.status).toBe(502);
    const noFields = await feedCall('alarm', { lifecycleEvent: 'UPDATE', triggerName: '/_/victim' });
    expect((noFields.body as Activation).response.result.error).toContain('No updatable parameters were given');
    const wrongFeed = await feedCall('interval', { lifecycleEvent: 'UPDATE', triggerName: '/_/victim', minutes: 2 });
    expect((wrongFeed.body as Activation).response.result.error).toContain('uses the alarm feed, not interval');
    const read = await feedCall('alarm', { lifecycleEvent: 'READ', triggerName: '/_/victim' });
    expect((read.body as Activation).response.result).toMatchObject({ config: { cron: '0 0 1 1 *' }, status: { active: true } });

    // Pause and unpause.
    expect((await feedCall('alarm', { lifecycleEvent: 'PAUSE', triggerName: '/_/victim' })).status).toBe(200);
    const paused = await feedCall('alarm', { lifecycleEvent: 'READ', triggerName: '/_/victim' });
    expect((paused.body as Activation).response.result).toMatchObject({ status: { active: false, reason: { kind: 'USER' } } });
    expect((await feedCall('alarm', { lifecycleEvent: 'UNPAUSE', triggerName: '/_/victim' })).status).toBe(200);

    // A non-blocking invoke of a feed action gets an id whose record is stored.
    const nb = await http(s, 'POST', '/api/v1/namespaces/whisk.system/actions/alarms/alarm', {
      body: { lifecycleEvent: 'READ', triggerName: '/_/victim', authKey: s.auth },
    });
    expect(nb.status).toBe(202);
    const rec = await http(s, 'GET', `/api/v1/namespaces/_/activations/${(nb.body as { activationId: string }).activationId}`);
    expect(rec.body).toMatchObject({ namespace: 'guest', name: 'alarm', response: { success: true } });

    expect((await feedCall('alarm', { lifecycleEvent: 'DELETE', triggerName: '/_/victim' })).status).toBe(200);
  });
});
