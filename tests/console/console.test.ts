/**
 * The web console end to end: a real standalone serves /console, Debian's chromium (driven by
 * playwright-core, no browser download) signs in with the printed key and does what a user would:
 * create an action, invoke it, find its result and logs in the timeline, edit and re-invoke it,
 * create a trigger and a rule, fire it and find the rule's activation, disable the rule, filter the
 * timeline by status and name (and see a new activation appear in it), delete the action, sign out. The operators view is checked against a server that requires WHIRL_METRICS_TOKEN:
 * it must say /metrics refused and show pool numbers once the token is given. Screenshots of the
 * main screens go to docs/console/ (linked from docs/console.md).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dockerUp } from '../helpers/docker.js';
import { http, repoRoot, startStandalone, type RunningStandalone } from '../helpers/standalone.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(repoRoot, 'docs/console');
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };
// Long enough for a cold start on a loaded machine; nothing here is a timed assertion.
const UI_TIMEOUT = 60_000;
// The server requires a metrics token, so the operators view must ask for it before it shows pools.
const METRICS_TOKEN = 'console-test-metrics-token';

describe.skipIf(!existsSync(CHROMIUM))('web console in chromium', () => {
  let s: RunningStandalone;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  const shot = async (name: string, size = WIDE) => {
    await page.setViewportSize(size);
    // Let layout settle after a resize (the chart follows its container) before the picture.
    // (Strings, not functions: this file is type-checked without the DOM library.)
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
    if (size !== WIDE) await page.setViewportSize(WIDE);
  };

  const nav = (screen: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: screen });

  const setCode = async (code: string) => {
    const editor = page.locator('.cm-content');
    await editor.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('Delete');
    // insertText goes in as one input, so CodeMirror's bracket closing does not double anything.
    await page.keyboard.insertText(code);
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    s = await startStandalone({ env: { WHIRL_CONTAINERS: dockerUp ? 'docker' : 'process', WHIRL_METRICS_TOKEN: METRICS_TOKEN } });
    profile = mkdtempSync(path.join(os.tmpdir(), 'whirl-console-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: WIDE,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = context.pages()[0] ?? (await context.newPage());
  });

  // The steps build on each other: after the first failure the rest would only wait out their timeouts.
  let broken = false;
  beforeEach((t) => {
    if (broken) t.skip();
  });
  afterEach(async (t) => {
    if (t.task.result?.state !== 'fail') return;
    broken = true;
    // What the page showed when the step failed, for whoever reads the failure.
    mkdirSync(path.join(repoRoot, '.tmp'), { recursive: true });
    await page?.screenshot({ path: path.join(repoRoot, '.tmp/console-failure.png') }).catch(() => undefined);
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await s?.stop();
  });

  it('serves the console from the controller, self-contained', async () => {
    const redirect = await fetch(`${s.apiHost}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/console/');
    const index = await http(s, 'GET', '/console/', { auth: null });
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    // Nothing is loaded from another origin: every script and stylesheet is a path on this server.
    const refs = [...index.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(1);
    for (const ref of refs) expect(ref.startsWith('/console/') || ref.startsWith('data:')).toBe(true);
    const asset = refs.find((r) => r.endsWith('.js'))!;
    const js = await http(s, 'GET', asset, { auth: null });
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await http(s, 'GET', '/console/assets/nope.js', { auth: null })).status).toBe(404);
  });

  it('signs in with a wskprops paste and refuses a wrong key', async () => {
    await page.goto(`${s.apiHost}/console`);
    await expect.poll(() => page.getByRole('heading', { name: 'Sign in to Whirl' }).isVisible()).toBe(true);
    await page.getByLabel('Namespace key').fill('23bc46b1-71f6-4ed5-8c54-816aa4f8c502:not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'does not know this key' }).waitFor();
    await shot('sign-in');
    await page.getByLabel('Namespace key').fill(`APIHOST=${s.apiHost}\nAUTH=${s.auth}\nNAMESPACE=${s.namespace}\n`);
    // Keyboard only: Tab from the key to the button, Enter submits.
    await page.getByLabel('Namespace key').press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Actions' }).waitFor();
    expect(await page.evaluate("sessionStorage.getItem('whirl.console.session')")).toContain(s.auth);
  });

  it('creates an action, invokes it, and finds its result and logs in the timeline', async () => {
    await page.getByRole('link', { name: 'New action' }).click();
    await page.getByLabel('Name').fill('hello');
    await setCode('function main(p) {\n  console.log("log line from " + p.name);\n  return { greeting: "hello " + p.name };\n}\n');
    await page.getByLabel('Memory (MB)').fill('128');
    await page.getByLabel('Default parameters (JSON object)').fill('{"name": "default"}');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Action hello' }).waitFor();

    // Bad input is refused in the page with a sentence, and nothing is invoked.
    await page.getByLabel('Parameters (JSON object)', { exact: true }).fill('{name: console}');
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Parameters is not valid JSON' }).waitFor();
    await page.getByLabel('Parameters (JSON object)', { exact: true }).fill('{"name": "console"}');
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    const result = page.getByLabel('Result');
    await result.filter({ hasText: 'hello console' }).waitFor();
    await page.getByLabel('Logs').filter({ hasText: 'log line from console' }).waitFor();
    await expect.poll(() => page.locator('.outcome').textContent()).toContain('Duration');
    await shot('action-invoke');
    await shot('action-invoke-narrow', NARROW);

    await nav('Activations').click();
    const item = page.getByRole('list', { name: 'Activations, newest first' }).getByRole('listitem').filter({ hasText: 'hello' }).first();
    await item.filter({ hasText: 'log line from console' }).waitFor();
    await expect.poll(() => item.textContent()).toMatch(/cold/);
    await shot('activations');
    await shot('activations-narrow', NARROW);
    await item.getByRole('link').click();
    await page.getByLabel('Result').filter({ hasText: 'hello console' }).waitFor();
    await page.getByLabel('Logs').filter({ hasText: 'log line from console' }).waitFor();
    await page.getByLabel('Annotations').filter({ hasText: 'initTime' }).waitFor();
    await shot('activation-detail');
  });

  it('edits the action and invokes the new version', async () => {
    await nav('Actions').click();
    await page.getByRole('link', { name: 'hello', exact: true }).click();
    await page.getByRole('heading', { name: 'Action hello' }).waitFor();
    // A web action's defaults are final (as wsk --web sets them): the rule below passes a new parameter.
    await setCode('function main(p) {\n  const who = p.who ?? p.name;\n  console.log("edited for " + who);\n  return { greeting: "hi again " + who, version: 2 };\n}\n');
    await page.getByLabel('Web action (callable without a key at /api/v1/web/…)').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved version 0.0.2' }).waitFor();
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    await page.getByLabel('Result').filter({ hasText: 'hi again default' }).waitFor();
    await page.getByLabel('Logs').filter({ hasText: 'edited for default' }).waitFor();
    await shot('action-edit');
    // The same version again runs in the container the first call started: warm, no initTime.
    const first = await page.locator('.outcome .facts a').first().textContent();
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    await expect.poll(() => page.locator('.outcome .facts a').first().textContent()).not.toBe(first);
    await expect.poll(() => page.locator('.outcome .badge').allTextContents()).toEqual(['success', 'warm']);

    await nav('Actions').click();
    const row = page.getByRole('row').filter({ hasText: 'hello' });
    await expect.poll(() => row.textContent()).toMatch(/0\.0\.2.*128 MB.*yes/);
    await shot('actions');
    await shot('actions-narrow', NARROW);
  });

  it('creates a sequence, shows its steps, invokes it, and deletes it', async () => {
    await page.getByRole('link', { name: 'New action' }).click();
    await page.getByLabel('Name').fill('twice');
    await page.getByLabel('Kind').selectOption('sequence');
    await page.getByLabel('Steps (action names in order, comma-separated)').fill('hello, hello');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'Action twice' }).waitFor();
    const steps = page.getByRole('list', { name: 'Sequence steps' }).getByRole('listitem');
    await expect.poll(() => steps.allTextContents()).toEqual([`/${s.namespace}/hello`, `/${s.namespace}/hello`]);
    await page.getByLabel('Parameters (JSON object)', { exact: true }).fill('{"who": "seq"}');
    await page.getByRole('button', { name: 'Invoke', exact: true }).click();
    // The second step gets the first one's result as its parameters, so `who` is gone by then.
    await page.getByLabel('Result').filter({ hasText: 'hi again default' }).waitFor();
    // A sequence's logs are its steps' activation ids, each a link to that activation.
    await expect.poll(() => page.getByLabel('Logs').getByRole('link').count()).toBe(2);
    await shot('sequence');
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete action' }).click();
    await page.getByRole('heading', { name: 'Actions' }).waitFor();
    await expect.poll(async () => (await http(s, 'GET', '/api/v1/namespaces/_/actions/twice')).status).toBe(404);
  });

  it('creates a trigger and a rule, fires it, and sees the rule run the action', async () => {
    await nav('Triggers & rules').click();
    await page.getByLabel('Trigger name').fill('tick');
    await page.getByRole('button', { name: 'Create trigger' }).click();
    await page.getByRole('status').filter({ hasText: 'Created trigger tick' }).waitFor();
    await page.getByLabel('Rule name').fill('on-tick');
    await page.getByLabel('Trigger', { exact: true }).selectOption('tick');
    await page.getByLabel('Action', { exact: true }).selectOption('hello');
    await page.getByRole('button', { name: 'Create rule' }).click();
    const rule = page.getByRole('listitem', { name: 'Rule on-tick' });
    await rule.filter({ hasText: 'active' }).waitFor();

    const trigger = page.getByRole('listitem', { name: 'Trigger tick' });
    await trigger.getByLabel('Parameters').fill('{"who": "the rule"}');
    await trigger.getByRole('button', { name: 'Fire' }).click();
    await page.getByRole('status').filter({ hasText: 'Fired tick' }).waitFor();
    await shot('triggers-rules');

    await page.getByRole('link', { name: 'timeline' }).click();
    const fromRule = page.getByRole('list', { name: 'Activations, newest first' }).getByRole('listitem').filter({ hasText: 'edited for the rule' });
    await fromRule.first().waitFor();
    await fromRule.first().getByRole('link').click();
    await page.getByLabel('Result').filter({ hasText: 'hi again the rule' }).waitFor();
    // The trigger's own activation lists what each rule did.
    await nav('Activations').click();
    await page.getByRole('listitem').filter({ hasText: 'tick' }).filter({ hasText: '"rule":"guest/on-tick"' }).first().waitFor();

    await nav('Triggers & rules').click();
    await rule.getByRole('button', { name: 'Disable' }).click();
    await rule.filter({ hasText: 'inactive' }).waitFor();
    await rule.getByRole('button', { name: 'Enable' }).waitFor();
  });

  it('filters the timeline by status and by action name, newest first, and shows new activations live', async () => {
    // hello (edited above) succeeds; oops returns an error: an application error (statusCode 1).
    const put = await http(s, 'PUT', '/api/v1/namespaces/_/actions/oops', {
      body: { exec: { kind: 'nodejs:default', code: 'function main() { return { error: "oops on purpose" }; }' } },
    });
    expect(put.status).toBe(200);
    const invoke = async (name: string): Promise<string> => {
      const r = await http(s, 'POST', `/api/v1/namespaces/_/actions/${name}?blocking=true`, { body: {} });
      const body = r.body as { activationId: string; response: { status: string } };
      expect(body.response.status).toBe(name === 'oops' ? 'application error' : 'success');
      return body.activationId;
    };
    const oops1 = await invoke('oops');
    const hello1 = await invoke('hello');
    const oops2 = await invoke('oops');

    const list = page.getByRole('list', { name: 'Activations, newest first' });
    const items = list.getByRole('listitem');
    const names = () => items.locator('.name').allTextContents();
    const ids = () => items.locator('.id').allTextContents();
    /** The entries' start times, read from their <time datetime>: newest first means never increasing. */
    const newestFirst = async () => {
      const times = await Promise.all((await items.locator('time').all()).map(async (t) => Date.parse((await t.getAttribute('datetime')) ?? '')));
      return times.length > 0 && times.every((t, i) => !Number.isNaN(t) && (i === 0 || t <= times[i - 1]!));
    };
    const status = page.getByRole('combobox', { name: /^Status/ });
    // The timeline polls every 2 s; expect.poll's own default (1 s) would give up before a poll.
    const poll = <T,>(fn: () => Promise<T>) => expect.poll(fn, { timeout: UI_TIMEOUT });

    await nav('Activations').click();
    await poll(ids).toContain(oops2);
    await status.selectOption({ label: 'success' });
    await poll(names).not.toContain('oops');
    expect(await ids()).toContain(hello1);
    expect(await items.locator('.badge.s0').count()).toBe(await items.count());
    expect(await newestFirst()).toBe(true);

    await status.selectOption({ label: 'application error' });
    // Only oops, its two activations newest first, and each marked as what it was.
    await poll(ids).toEqual([oops2, oops1]);
    expect(await items.locator('.badge.s1').allTextContents()).toEqual(['application error', 'application error']);
    await page.getByText('2 application error activations, out of all').waitFor();
    await shot('activations-filtered');

    // By name, status back to any, Enter in the field submits: only hello's activations.
    await status.selectOption({ label: 'any' });
    await page.getByLabel('Action name').fill('hello');
    await page.getByLabel('Action name').press('Enter');
    await poll(async () => [...new Set(await names())]).toEqual(['hello']);
    expect(await ids()).toContain(hello1);
    expect(await newestFirst()).toBe(true);

    // #/activations/by/NAME is the same view, bookmarked: the timeline of one action.
    await page.goto(`${s.apiHost}/console/#/activations/by/oops`);
    await poll(() => page.getByLabel('Action name').inputValue()).toBe('oops');
    await poll(ids).toEqual([oops2, oops1]);

    // Live: an activation made while the timeline is open appears on top within a poll or two.
    const oops3 = await invoke('oops');
    await poll(ids).toEqual([oops3, oops2, oops1]);
    expect(await newestFirst()).toBe(true);
    await status.selectOption({ label: 'success' });
    await page.getByText('No activations match the filter.').waitFor();
    // The last step expects hello to be the only action left.
    expect((await http(s, 'DELETE', '/api/v1/namespaces/_/actions/oops')).status).toBe(200);
  });

  it('browses packages and the whisk.system catalog, and shows the operators view', async () => {
    await nav('Packages').click();
    await page.getByRole('heading', { name: 'Catalog (whisk.system)' }).waitFor();
    await shot('packages');
    await page.getByRole('link', { name: 'utils', exact: true }).click();
    await page.getByRole('heading', { name: 'Package /whisk.system/utils' }).waitFor();
    await page.getByLabel('Binding name').fill('myutils');
    await page.getByRole('button', { name: 'Create binding' }).click();
    await page.getByRole('heading', { name: 'Package myutils' }).waitFor();
    await page.getByText('A binding of').waitFor();
    expect((await http(s, 'GET', '/api/v1/namespaces/_/packages/myutils')).body).toMatchObject({ binding: { namespace: 'whisk.system', name: 'utils' } });
    // What the page sends to /metrics: the metrics token at most, never the namespace key.
    const scrapeAuth: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/metrics') scrapeAuth.push(r.headers().authorization ?? '(none)');
    });
    await nav('Operators').click();
    await page.getByRole('cell', { name: 'up' }).first().waitFor();
    await page.getByRole('heading', { name: `Throughput of namespace ${s.namespace}` }).waitFor();
    await page.getByRole('img', { name: `Activations of namespace ${s.namespace} per 15 seconds over the last 10 minutes, succeeded and failed` }).locator('canvas').waitFor();
    // /metrics wants WHIRL_METRICS_TOKEN here: the view says so plainly and offers the token field.
    await page.getByRole('alert').filter({ hasText: '/metrics answered 401' }).waitFor();
    await shot('operators-metrics-refused');
    const tokenField = page.getByLabel('Metrics token (optional, WHIRL_METRICS_TOKEN)');
    await tokenField.fill('not-the-metrics-token');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByRole('button', { name: 'Forget token' }).waitFor();
    await page.getByRole('alert').filter({ hasText: '/metrics answered 401' }).waitFor();
    await tokenField.fill(METRICS_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    // hello ran in a container of this pool (128 MB), which is still there: warm, paused or busy.
    const cells = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'invoker0' }) }).getByRole('cell');
    await expect
      .poll(async () => {
        const [health, warm, paused, stemCells, busy, memory, queued] = await cells.allTextContents();
        const counts = [warm, paused, stemCells, busy, queued];
        if (!counts.every((c) => c !== undefined && /^\d+$/.test(c))) return `not numbers yet: ${counts.join(' ')}`;
        const m = /^(\d+) of (\d+) MB$/.exec(memory ?? '');
        if (!m) return `memory not shown: ${memory}`;
        return { health, holdsHello: Number(warm) + Number(paused) + Number(busy) >= 1, usedAtLeast128: Number(m[1]) >= 128, budget: Number(m[2]) > 0 };
      })
      .toEqual({ health: 'up', holdsHello: true, usedAtLeast128: true, budget: true });
    await page.getByText("Pool occupancy from this server's /metrics").waitFor();
    expect(await page.evaluate("sessionStorage.getItem('whirl.console.metricsToken')")).toBe(METRICS_TOKEN);
    expect(scrapeAuth[0]).toBe('(none)');
    expect(scrapeAuth).toContain('Bearer not-the-metrics-token');
    expect(scrapeAuth.at(-1)).toBe(`Bearer ${METRICS_TOKEN}`);
    expect(new Set(scrapeAuth.map((a) => a.split(' ')[0]))).toEqual(new Set(['(none)', 'Bearer']));
    await shot('operators');
  });

  it('deletes the action after a confirmation, and signs out', async () => {
    await nav('Actions').click();
    await page.getByRole('link', { name: 'hello', exact: true }).click();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    // Escape cancels: nothing is deleted.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/hello')).status).toBe(200);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('button', { name: 'Delete action' }).click();
    await page.getByRole('heading', { name: 'Actions' }).waitFor();
    await page.getByText('No actions yet').waitFor();
    expect((await http(s, 'GET', '/api/v1/namespaces/_/actions/hello')).status).toBe(404);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Whirl' }).waitFor();
    expect(await page.evaluate("sessionStorage.getItem('whirl.console.session')")).toBeNull();
    expect(await page.evaluate("sessionStorage.getItem('whirl.console.metricsToken')")).toBeNull();
  });
});
