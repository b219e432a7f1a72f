/**
 * The admin API and tenant lifecycle against a real standalone: an operator creates a tenant with
 * `whirl admin user create`, the tenant works with the openwhisk npm client and with `whirl`, the key is
 * rotated (the old one is refused), the tenant is blocked and unblocked, its invocation limit lowered
 * (429), its activations expire after a short retention, a namespace default retry policy (asyncRetry)
 * retries its non-blocking invokes, and keys never sit in the store in the clear.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import openwhisk from 'openwhisk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, type CliEnv } from '../cli/helpers.js';
import { http, startStandalone, waitFor, type RunningStandalone } from '../helpers/standalone.js';

let s: RunningStandalone;
let adminKey: string;
let cli: CliEnv;
const ENV = { WHIRL_CONTAINERS: 'process', WHIRL_PREWARM: 'false', WHIRL_RETENTION_SWEEP_MS: '300' };

beforeAll(async () => {
  s = await startStandalone({ env: ENV });
  adminKey = readFileSync(path.join(s.dataDir, 'admin-key'), 'utf8').trim();
  cli = cliEnv();
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

/** The admin API with the Bearer key (or another Authorization header). */
const admin = (method: string, p: string, body?: unknown, authorization: string | null = `Bearer ${adminKey}`) =>
  http(s, method, `/admin/v1${p}`, { ...(body !== undefined ? { body } : {}), auth: null, headers: authorization === null ? {} : { authorization } });

const adminCli = (args: string[]) => cli.run(['admin', ...args], { env: { WHIRL_ADMIN_CONFIG_FILE: path.join(s.dataDir, 'adminprops') } });

const as = (auth: string) => ({ apiHost: s.apiHost, auth });
const errorOf = (r: { body: unknown }) => (r.body as { error: string }).error;
const mode = (file: string) => statSync(file).mode & 0o777;

describe('admin key and bad input', () => {
  it('keeps the generated admin key and the guest key in 0600 files of the data dir', () => {
    expect(adminKey.length).toBeGreaterThanOrEqual(32);
    expect(mode(path.join(s.dataDir, 'admin-key'))).toBe(0o600);
    expect(mode(path.join(s.dataDir, 'guest-key'))).toBe(0o600);
    expect(mode(path.join(s.dataDir, 'adminprops'))).toBe(0o600);
    expect(readFileSync(path.join(s.dataDir, 'guest-key'), 'utf8').trim()).toBe(s.auth);
  });

  it('answers 401 without or with a wrong admin key, 403 to a tenant key, 404 for an unknown subject', async () => {
    expect((await admin('GET', '/subjects', undefined, null)).status).toBe(401);
    expect((await admin('GET', '/subjects', undefined, 'Bearer not-the-key')).status).toBe(401);
    const tenant = await admin('GET', '/subjects', undefined, `Basic ${Buffer.from(s.auth).toString('base64')}`);
    expect(tenant.status).toBe(403);
    expect(errorOf(tenant)).toMatch(/cannot use the admin API/);
    const missing = await admin('GET', '/subjects/nobody');
    expect(missing.status).toBe(404);
    expect(errorOf(missing)).toBe("The subject 'nobody' does not exist.");
  });

  it('refuses limits out of range with every problem listed, and changes nothing', async () => {
    const r = await admin('PUT', '/namespaces/guest/limits', { invocationsPerMinute: -1, concurrentInvocations: 1.5, retention: 'long', colour: 'red' });
    expect(r.status).toBe(400);
    const msg = errorOf(r);
    for (const part of ['invocationsPerMinute', 'concurrentInvocations', 'retention', "unknown field 'colour'"]) expect(msg).toContain(part);
    expect((await admin('GET', '/namespaces/guest/limits')).body).toEqual({ namespace: 'guest', limits: {} });
    const kinds = await admin('PUT', '/namespaces/guest/limits', { allowedKinds: ['cobol:1'] });
    expect(kinds.status).toBe(400);
    expect(errorOf(kinds)).toContain("'cobol:1'");
  });

  it('refuses a second subject of the same name, and a bad subject name', async () => {
    expect((await admin('PUT', '/subjects/dup')).status).toBe(201);
    const again = await admin('PUT', '/subjects/dup');
    expect(again.status).toBe(409);
    expect((await admin('PUT', `/subjects/${encodeURIComponent('-bad')}`)).status).toBe(400);
    expect((await admin('PUT', '/subjects/other', { namespace: 'dup' })).status).toBe(409);
  });
});

describe('a tenant from creation to rotation, blocking and limits', () => {
  let auth: string;
  let uuid: string;

  it('is created with `whirl admin user create`, and the key is shown only then', async () => {
    const r = await adminCli(['user', 'create', 'alice', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const created = JSON.parse(r.stdout) as { auth: string; uuid: string; namespace: string };
    expect(created.namespace).toBe('alice');
    auth = created.auth;
    uuid = created.uuid;
    const shown = await adminCli(['user', 'get', 'alice', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ subject: 'alice', blocked: false, namespaces: [{ name: 'alice', uuid }] });
    expect(shown.stdout).not.toContain(auth.split(':')[1]);
    const list = await adminCli(['user', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { subject: string }[]).map((x) => x.subject)).toEqual(expect.arrayContaining(['alice', 'guest']));
  });

  it('works for the tenant with the openwhisk client and with whirl', async () => {
    const ow = openwhisk({ apihost: s.apiHost, api_key: auth });
    await ow.actions.create({ name: 'hello', action: 'function main(p) { console.log("hi"); return { hi: p.name }; }' });
    const act = await ow.actions.invoke({ name: 'hello', blocking: true, params: { name: 'alice' } });
    expect(act.response?.result).toEqual({ hi: 'alice' });
    expect(act.namespace).toBe('alice');
    const r = await cli.run(['action', 'invoke', 'hello', '-r', '-p', 'name', 'cli', '-u', auth, '--apihost', s.apiHost]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ hi: 'cli' });
    // Another tenant's key does not reach alice's namespace.
    expect((await http(s, 'GET', '/api/v1/namespaces/alice/actions/hello')).status).toBe(403);
  });

  it('rotates: the new key works, and the old one is refused once deleted', async () => {
    const added = await adminCli(['user', 'key', 'add', 'alice', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const next = JSON.parse(added.stdout) as { auth: string; uuid: string };
    expect((await http(as(next.auth), 'GET', '/api/v1/namespaces/_/actions/hello')).status).toBe(200);
    expect((await http(as(auth), 'GET', '/api/v1/namespaces/_/actions/hello')).status).toBe(200);
    const del = await adminCli(['user', 'key', 'delete', 'alice', uuid]);
    expect(del.code, del.stderr).toBe(0);
    expect((await http(as(auth), 'GET', '/api/v1/namespaces/_/actions/hello')).status).toBe(401);
    expect((await http(as(next.auth), 'GET', '/api/v1/namespaces/_/actions/hello')).status).toBe(200);
    // The last key of a namespace cannot go.
    const last = await admin('DELETE', `/subjects/alice/keys/${next.uuid}`);
    expect(last.status).toBe(409);
    expect((await admin('DELETE', '/subjects/alice/keys/no-such-uuid')).status).toBe(404);
    auth = next.auth;
    uuid = next.uuid;
  });

  it('blocks (403 on every call) and unblocks', async () => {
    expect((await adminCli(['user', 'block', 'alice'])).code).toBe(0);
    for (const [method, p] of [
      ['GET', '/api/v1/namespaces'],
      ['GET', '/api/v1/namespaces/_/actions/hello'],
      ['POST', '/api/v1/namespaces/_/actions/hello?blocking=true'],
    ] as const) {
      const r = await http(as(auth), method, p, method === 'POST' ? { body: {} } : {});
      expect(r.status, `${method} ${p}`).toBe(403);
      expect(errorOf(r)).toMatch(/blocked/);
    }
    expect((await adminCli(['user', 'unblock', 'alice'])).code).toBe(0);
    expect((await http(as(auth), 'GET', '/api/v1/namespaces/_/actions/hello')).status).toBe(200);
  });

  it('lowers the invocation limit: 429 follows, and the limits show it', async () => {
    const set = await adminCli(['limits', 'set', 'alice', '--invocationsPerMinute', '2', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ namespace: 'alice', limits: { invocationsPerMinute: 2 } });
    const shown = await http(as(auth), 'GET', '/api/v1/namespaces/_/limits');
    expect(shown.body).toMatchObject({ invocationsPerMinute: 2, retention: 7 });
    let last = 200;
    for (let i = 0; i < 4 && last !== 429; i++) last = (await http(as(auth), 'POST', '/api/v1/namespaces/_/actions/hello?blocking=true', { body: {} })).status;
    expect(last).toBe(429);
    expect((await adminCli(['limits', 'delete', 'alice'])).code).toBe(0);
    expect((await adminCli(['limits', 'get', 'alice', '--json'])).stdout).toContain('"limits": {}');
  });

  it('refuses actions of kinds outside allowedKinds with 403', async () => {
    expect((await admin('PUT', '/namespaces/alice/limits', { allowedKinds: ['python:3.11'] })).status).toBe(200);
    const r = await http(as(auth), 'PUT', '/api/v1/namespaces/_/actions/nope', { body: { exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' } } });
    expect(r.status).toBe(403);
    expect(errorOf(r)).toBe("The supplied authentication is not authorized to access actions of kind 'nodejs:20'.");
    expect((await admin('DELETE', '/namespaces/alice/limits')).status).toBe(200);
  });

  it('skips storing successful blocking results with storeActivations false, and always stores failures', async () => {
    await http(as(auth), 'PUT', '/api/v1/namespaces/_/actions/fails', { body: { exec: { kind: 'nodejs:20', code: 'function main() { return { error: "no" }; }' } } });
    expect((await admin('PUT', '/namespaces/alice/limits', { storeActivations: false })).status).toBe(200);
    const ok = await http(as(auth), 'POST', '/api/v1/namespaces/_/actions/hello?blocking=true', { body: { name: 'x' } });
    expect(ok.status).toBe(200);
    expect((ok.body as { response: { result: unknown } }).response.result).toEqual({ hi: 'x' });
    const bad = await http(as(auth), 'POST', '/api/v1/namespaces/_/actions/fails?blocking=true', { body: {} });
    expect(bad.status).toBe(502);
    const badId = (bad.body as { activationId: string }).activationId;
    await waitFor('the failed record', async () => ((await http(as(auth), 'GET', `/api/v1/namespaces/_/activations/${badId}`)).status === 200 ? true : undefined));
    const okId = (ok.body as { activationId: string }).activationId;
    expect((await http(as(auth), 'GET', `/api/v1/namespaces/_/activations/${okId}`)).status).toBe(404);
    expect((await admin('DELETE', '/namespaces/alice/limits')).status).toBe(200);
  });

  it('caps stored logs per namespace in lines', async () => {
    await http(as(auth), 'PUT', '/api/v1/namespaces/_/actions/chatty', {
      body: { exec: { kind: 'nodejs:20', code: 'function main() { for (let i = 0; i < 5; i++) console.log("line " + i); return {}; }' } },
    });
    expect((await admin('PUT', '/namespaces/alice/limits', { maxLogLines: 2 })).status).toBe(200);
    const r = await http(as(auth), 'POST', '/api/v1/namespaces/_/actions/chatty?blocking=true', { body: {} });
    const id = (r.body as { activationId: string }).activationId;
    const logs = await waitFor('the chatty record', async () => {
      const g = await http(as(auth), 'GET', `/api/v1/namespaces/_/activations/${id}`);
      return g.status === 200 ? (g.body as { logs: string[] }).logs : undefined;
    });
    expect(logs).toHaveLength(3);
    expect(logs[0]).toContain('line 0');
    expect(logs[1]).toContain('line 1');
    expect(logs[2]).toContain('truncated because the number of lines exceeds the limit of 2 lines');
    expect((await admin('DELETE', '/namespaces/alice/limits')).status).toBe(200);
  });

  it('refuses a bad asyncRetry default with every problem listed, and changes nothing', async () => {
    const r = await admin('PUT', '/namespaces/alice/limits', { asyncRetry: { attempts: 11, backoffMs: -5, onApplicationError: 'yes', jitter: true } });
    expect(r.status).toBe(400);
    const msg = errorOf(r);
    for (const part of ["unknown field 'jitter'", 'attempts must be an integer from 1 to 10, got 11', 'backoffMs must be a number of milliseconds from 0 to 900000, got -5', 'onApplicationError must be true or false']) {
      expect(msg).toContain(part);
    }
    expect((await admin('PUT', '/namespaces/alice/limits', { asyncRetry: 3 })).status).toBe(400);
    const flag = await adminCli(['limits', 'set', 'alice', '--asyncRetryAttempts', 'three']);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain("--asyncRetryAttempts expects a whole number, got 'three'");
    expect((await admin('GET', '/namespaces/alice/limits')).body).toEqual({ namespace: 'alice', limits: {} });
    expect((await http(as(auth), 'GET', '/api/v1/namespaces/_/limits')).body).not.toHaveProperty('asyncRetry');
  });

  it('retries a non-blocking invoke by the namespace default, and the action annotation wins over it', async () => {
    const set = await adminCli(['limits', 'set', 'alice', '--asyncRetryAttempts', '4', '--asyncRetryBackoffMs', '300', '--asyncRetryOnApplicationError', 'true', '--json']);
    expect(set.code, set.stderr).toBe(0);
    const policy = { attempts: 4, backoffMs: 300, onApplicationError: true };
    expect(JSON.parse(set.stdout)).toEqual({ namespace: 'alice', limits: { asyncRetry: policy } });
    expect((await adminCli(['limits', 'get', 'alice'])).stdout).toContain(`asyncRetry = ${JSON.stringify(policy)}`);
    // The tenant sees the default that applies to its actions (an extra key, which OpenWhisk clients ignore).
    expect((await http(as(auth), 'GET', '/api/v1/namespaces/_/limits')).body).toMatchObject({ asyncRetry: policy });

    type Rec = { activationId: string; annotations: { key: string; value: unknown }[]; response: { success: boolean; status: string; result: unknown } };
    const ann = (r: Rec, key: string): unknown => r.annotations.find((a) => a.key === key)?.value;
    const records = async (name: string): Promise<Rec[]> => (await http(as(auth), 'GET', `/api/v1/namespaces/_/activations?name=${name}&docs=true&limit=50`)).body as Rec[];
    const byAttempt = (rs: Rec[]): Rec[] => [...rs].sort((a, b) => Number(ann(a, 'attempt')) - Number(ann(b, 'attempt')));

    // No retry annotation: the namespace default applies. The count lives in the warm process, which an application error keeps.
    const code = 'let n = 0; function main() { n += 1; return n < 3 ? { error: `failure ${n}` } : { ok: n }; }';
    expect((await http(as(auth), 'PUT', '/api/v1/namespaces/_/actions/flaky', { body: { exec: { kind: 'nodejs:default', code } } })).status).toBe(200);
    const first = await http(as(auth), 'POST', '/api/v1/namespaces/_/actions/flaky', { body: {} });
    expect(first.status).toBe(202);
    const all = byAttempt(
      await waitFor('three attempts', async () => {
        const rs = await records('flaky');
        return rs.length >= 3 && rs.some((r) => r.response.success) ? rs : undefined;
      }, 60_000),
    );
    expect(all.map((r) => [ann(r, 'attempt'), r.response.status])).toEqual([
      [1, 'application error'],
      [2, 'application error'],
      [3, 'success'],
    ]);
    expect(all[0]!.activationId).toBe((first.body as { activationId: string }).activationId);
    expect(ann(all[1]!, 'cause')).toBe(all[0]!.activationId);
    expect(ann(all[2]!, 'cause')).toBe(all[1]!.activationId);
    expect(all[2]!.response.result).toEqual({ ok: 3 });

    // A retry annotation wins: 2 runs, where the default would make 4.
    expect(
      (await http(as(auth), 'PUT', '/api/v1/namespaces/_/actions/stubborn', {
        body: { exec: { kind: 'nodejs:default', code: 'function main() { return { error: "no" }; }' }, annotations: [{ key: 'retry', value: { attempts: 2, backoffMs: 100, onApplicationError: true } }] },
      })).status,
    ).toBe(200);
    expect((await http(as(auth), 'POST', '/api/v1/namespaces/_/actions/stubborn', { body: {} })).status).toBe(202);
    await waitFor('two attempts', async () => ((await records('stubborn')).length >= 2 ? true : undefined), 30_000);
    // Longer than the default's remaining back-offs (300 * (2 + 4) ms) would take.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(byAttempt(await records('stubborn')).map((r) => ann(r, 'attempt'))).toEqual([1, 2]);

    // One flag changes one field of the stored default; DELETE removes it.
    const partial = await adminCli(['limits', 'set', 'alice', '--asyncRetryBackoffMs', '500', '--json']);
    expect(JSON.parse(partial.stdout)).toEqual({ namespace: 'alice', limits: { asyncRetry: { ...policy, backoffMs: 500 } } });
    expect((await admin('DELETE', '/namespaces/alice/limits')).status).toBe(200);
    expect((await admin('GET', '/namespaces/alice/limits')).body).toEqual({ namespace: 'alice', limits: {} });
    expect((await http(as(auth), 'GET', '/api/v1/namespaces/_/limits')).body).not.toHaveProperty('asyncRetry');
    // The cascade test below counts alice's entities.
    for (const name of ['flaky', 'stubborn']) expect((await http(as(auth), 'DELETE', `/api/v1/namespaces/_/actions/${name}`)).status).toBe(200);
  });

  it('makes activations disappear after a short retention period', async () => {
    const r = await http(as(auth), 'POST', '/api/v1/namespaces/_/actions/hello?blocking=true', { body: {} });
    const id = (r.body as { activationId: string }).activationId;
    await waitFor('the record', async () => ((await http(as(auth), 'GET', `/api/v1/namespaces/_/activations/${id}`)).status === 200 ? true : undefined));
    // About two seconds, in days.
    expect((await adminCli(['limits', 'set', 'alice', '--retention', String(2 / 86_400)])).code).toBe(0);
    expect(((await http(as(auth), 'GET', '/api/v1/namespaces/_/limits')).body as { retention: number }).retention).toBeCloseTo(2 / 86_400);
    await waitFor('the record to expire', async () => ((await http(as(auth), 'GET', `/api/v1/namespaces/_/activations/${id}`)).status === 404 ? true : undefined), 30_000);
    expect((await admin('DELETE', '/namespaces/alice/limits')).status).toBe(200);
  });

  it('deletes a subject keeping its entities, or with ?cascade=true removing them all', async () => {
    const keep = await admin('DELETE', '/subjects/alice');
    expect(keep.status).toBe(200);
    expect(keep.body).toMatchObject({ deleted: true, cascade: false, entitiesDeleted: 0 });
    expect((await http(as(auth), 'GET', '/api/v1/namespaces/_/actions/hello')).status).toBe(401);
    const again = (await admin('PUT', '/subjects/alice')).body as { auth: string };
    expect((await http(as(again.auth), 'GET', '/api/v1/namespaces/_/actions/hello')).status).toBe(200);
    expect((await admin('DELETE', '/subjects/alice?cascade=maybe')).status).toBe(400);
    const gone = await adminCli(['user', 'delete', 'alice', '--cascade', '--json']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(JSON.parse(gone.stdout)).toMatchObject({ cascade: true, entitiesDeleted: 3 });
    const third = (await admin('PUT', '/subjects/alice')).body as { auth: string };
    expect((await http(as(third.auth), 'GET', '/api/v1/namespaces/_/actions')).body).toEqual([]);
    expect((await admin('DELETE', '/subjects/alice')).status).toBe(200);
    expect((await admin('DELETE', '/subjects/alice')).status).toBe(404);
  });
});

describe('restart', () => {
  it('prints the same guest key and keeps no key in the clear in the database', async () => {
    const before = s.auth;
    const dataDir = s.dataDir;
    expect(await s.stop({ keepData: true })).toBe(0);
    s = await startStandalone({ env: ENV, dataDir });
    expect(s.auth).toBe(before);
    expect(readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim()).toBe(adminKey);
    expect((await http(s, 'GET', '/api/v1/namespaces')).body).toEqual(['guest']);
    const db = readFileSync(path.join(dataDir, 'whirl.db')).toString('latin1') + readWal(dataDir);
    expect(db).not.toContain(before.split(':')[1]);
  });
});

function readWal(dataDir: string): string {
  try {
    return readFileSync(path.join(dataDir, 'whirl.db-wal')).toString('latin1');
  } catch {
    return '';
  }
}
