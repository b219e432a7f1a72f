/**
 * `whirl admin user create|get|delete|list|block|unblock|key add|key delete` and
 * `whirl admin limits set|get|delete`: wskadmin's verbs over the admin API (docs/admin-api.md).
 */
import { Command, Option } from 'commander';
import type { Factory } from '../../factory.js';
import type { IOStreams } from '../../iostreams.js';
import { printJson, printOk, printTable } from '../../output.js';
import { UsageError } from '../../exit.js';
import { attempt, parseBoolWord } from '../shared.js';
import { ADMIN_CONFIG_HELP, AdminClient, type AdminFlags } from './client.js';

interface SubjectView {
  subject: string;
  blocked: boolean;
  namespaces: { name: string; uuid: string; created?: number }[];
}
interface Created {
  subject: string;
  namespace: string;
  uuid: string;
  key: string;
  auth: string;
}
interface LimitsView {
  namespace: string;
  limits: Record<string, unknown>;
}

export interface AdminDeps {
  io: IOStreams;
  client: () => AdminClient;
  json?: boolean;
}

function adminLeaf(f: Factory, name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .option('--apihost <host>', 'the admin API host (default from WHIRL_ADMIN_APIHOST or the admin properties file)')
    .option('--admin-key <key>', 'the operator key (default from WHIRL_ADMIN_KEY or the admin properties file)')
    .option('-i, --insecure', 'accept self-signed TLS certificates')
    .option('-v, --verbose', 'print HTTP requests and responses to stderr')
    .option('--json', 'print the raw JSON answer, for scripts')
    .addHelpText('after', `\n${ADMIN_CONFIG_HELP}\n`);
}

function adminDeps(f: Factory, o: AdminFlags & { json?: boolean }): AdminDeps {
  return { io: f.io, client: () => AdminClient.fromSettings(o, f.env, (l) => f.io.err.write(`${l}\n`)), ...(o.json === true ? { json: true } : {}) };
}

const seg = encodeURIComponent;

function printSubject(d: AdminDeps, s: SubjectView): void {
  if (d.json === true) return printJson(d.io, s);
  d.io.out.write(`subject ${s.subject}${s.blocked ? ' (blocked)' : ''}\n`);
  printTable(
    d.io,
    undefined,
    s.namespaces.map((n) => [n.name, n.uuid, n.created !== undefined ? new Date(n.created).toISOString() : '']),
    ['namespace', 'uuid', 'created'],
  );
}

function printCreated(d: AdminDeps, c: Created): void {
  if (d.json === true) return printJson(d.io, c);
  // The key is shown once: the server keeps only its hash.
  d.io.out.write(`${c.auth}\n`);
  d.io.err.write(`namespace ${c.namespace}: keep this key now, it cannot be shown again\n`);
}

export async function runUserCreate(d: AdminDeps, subject: string, o: { namespace?: string }): Promise<void> {
  const c = await attempt(`Unable to create subject '${subject}'`, () =>
    d.client().call<Created>('PUT', `/subjects/${seg(subject)}`, o.namespace !== undefined ? { namespace: o.namespace } : {}),
  );
  printCreated(d, c);
}

export async function runUserGet(d: AdminDeps, subject: string): Promise<void> {
  printSubject(d, await attempt(`Unable to get subject '${subject}'`, () => d.client().call<SubjectView>('GET', `/subjects/${seg(subject)}`)));
}

export async function runUserDelete(d: AdminDeps, subject: string, o: { cascade?: boolean }): Promise<void> {
  const r = await attempt(`Unable to delete subject '${subject}'`, () =>
    d.client().call<{ entitiesDeleted: number }>('DELETE', `/subjects/${seg(subject)}${o.cascade === true ? '?cascade=true' : ''}`),
  );
  if (d.json === true) return printJson(d.io, r);
  printOk(d.io, `deleted subject ${subject}${o.cascade === true ? ` and ${r.entitiesDeleted} entities` : ' (its entities are kept)'}`);
}

export async function runUserList(d: AdminDeps, o: { limit?: string; skip?: string }): Promise<void> {
  const q = new URLSearchParams();
  if (o.limit !== undefined) q.set('limit', o.limit);
  if (o.skip !== undefined) q.set('skip', o.skip);
  const list = await attempt('Unable to list subjects', () => d.client().call<SubjectView[]>('GET', `/subjects${q.size > 0 ? `?${q}` : ''}`));
  if (d.json === true) return printJson(d.io, list);
  printTable(
    d.io,
    'subjects',
    list.map((s) => [s.subject, s.namespaces.map((n) => n.name).filter((n, i, a) => a.indexOf(n) === i).join(','), s.blocked ? 'blocked' : '']),
  );
}

export async function runUserBlock(d: AdminDeps, subject: string, blocked: boolean): Promise<void> {
  const s = await attempt(`Unable to ${blocked ? 'block' : 'unblock'} subject '${subject}'`, () =>
    d.client().call<SubjectView>('POST', `/subjects/${seg(subject)}/${blocked ? 'block' : 'unblock'}`),
  );
  if (d.json === true) return printJson(d.io, s);
  printOk(d.io, `${blocked ? 'blocked' : 'unblocked'} subject ${subject}`);
}

export async function runKeyAdd(d: AdminDeps, subject: string, o: { namespace?: string }): Promise<void> {
  const c = await attempt(`Unable to add a key to subject '${subject}'`, () =>
    d.client().call<Created>('POST', `/subjects/${seg(subject)}/keys`, o.namespace !== undefined ? { namespace: o.namespace } : {}),
  );
  printCreated(d, c);
}

export async function runKeyDelete(d: AdminDeps, subject: string, uuid: string): Promise<void> {
  const s = await attempt(`Unable to delete key '${uuid}' of subject '${subject}'`, () =>
    d.client().call<SubjectView>('DELETE', `/subjects/${seg(subject)}/keys/${seg(uuid)}`),
  );
  if (d.json === true) return printJson(d.io, s);
  printOk(d.io, `deleted key ${uuid} of subject ${subject}`);
}

const INT_LIMITS = ['invocationsPerMinute', 'concurrentInvocations', 'firesPerMinute', 'maxLogBytes', 'maxLogLines'] as const;

export interface LimitsSetOptions {
  invocationsPerMinute?: string;
  concurrentInvocations?: string;
  firesPerMinute?: string;
  maxLogBytes?: string;
  maxLogLines?: string;
  retention?: string;
  allowedKinds?: string;
  storeActivations?: string;
  asyncRetryAttempts?: string;
  asyncRetryBackoffMs?: string;
  asyncRetryOnApplicationError?: string;
}

/** The asyncRetry flags over the stored policy: naming one keeps the others as they were. */
function asyncRetryChange(o: LimitsSetOptions, current: unknown): Record<string, unknown> | undefined {
  if (o.asyncRetryAttempts === undefined && o.asyncRetryBackoffMs === undefined && o.asyncRetryOnApplicationError === undefined) return undefined;
  const next: Record<string, unknown> = typeof current === 'object' && current !== null && !Array.isArray(current) ? { ...(current as Record<string, unknown>) } : {};
  if (o.asyncRetryAttempts !== undefined) {
    const n = Number(o.asyncRetryAttempts);
    if (!Number.isInteger(n)) throw new UsageError(`flag --asyncRetryAttempts expects a whole number, got '${o.asyncRetryAttempts}'`);
    next.attempts = n;
  }
  if (o.asyncRetryBackoffMs !== undefined) {
    const n = Number(o.asyncRetryBackoffMs);
    if (!Number.isFinite(n)) throw new UsageError(`flag --asyncRetryBackoffMs expects a number of milliseconds, got '${o.asyncRetryBackoffMs}'`);
    next.backoffMs = n;
  }
  if (o.asyncRetryOnApplicationError !== undefined) next.onApplicationError = parseBoolWord('--asyncRetryOnApplicationError', o.asyncRetryOnApplicationError);
  return next;
}

/** Flags over what is stored: `limits set` changes only the limits it names, as wskadmin does. */
export async function runLimitsSet(d: AdminDeps, ns: string, o: LimitsSetOptions): Promise<void> {
  const changes: Record<string, unknown> = {};
  for (const k of INT_LIMITS) {
    const v = o[k];
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new UsageError(`flag --${k} expects a whole number, got '${v}'`);
    changes[k] = n;
  }
  if (o.retention !== undefined) {
    const n = Number(o.retention);
    if (!Number.isFinite(n)) throw new UsageError(`flag --retention expects a number of days, got '${o.retention}'`);
    changes.retention = n;
  }
  if (o.allowedKinds !== undefined) changes.allowedKinds = o.allowedKinds.split(',').map((k) => k.trim()).filter((k) => k !== '');
  if (o.storeActivations !== undefined) changes.storeActivations = parseBoolWord('--storeActivations', o.storeActivations);
  // The asyncRetry flags are checked before any call, so that a bad one changes nothing.
  const retryGiven = asyncRetryChange(o, undefined) !== undefined;
  if (Object.keys(changes).length === 0 && !retryGiven) throw new UsageError('limits set needs at least one limit flag (see whirl admin limits set --help)');
  const current = await attempt(`Unable to get the limits of '${ns}'`, () => d.client().call<LimitsView>('GET', `/namespaces/${seg(ns)}/limits`));
  if (retryGiven) changes.asyncRetry = asyncRetryChange(o, current.limits.asyncRetry);
  const r = await attempt(`Unable to set the limits of '${ns}'`, () =>
    d.client().call<LimitsView>('PUT', `/namespaces/${seg(ns)}/limits`, { ...current.limits, ...changes }),
  );
  if (d.json === true) return printJson(d.io, r);
  printOk(d.io, `limits of ${ns} set: ${JSON.stringify(r.limits)}`);
}

export async function runLimitsGet(d: AdminDeps, ns: string): Promise<void> {
  const r = await attempt(`Unable to get the limits of '${ns}'`, () => d.client().call<LimitsView>('GET', `/namespaces/${seg(ns)}/limits`));
  if (d.json === true) return printJson(d.io, r);
  const entries = Object.entries(r.limits);
  if (entries.length === 0) d.io.out.write(`no limits set for ${ns}: the system defaults apply\n`);
  for (const [k, v] of entries) {
    const shown = Array.isArray(v) ? v.join(',') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
    d.io.out.write(`${k} = ${shown}\n`);
  }
}

export async function runLimitsDelete(d: AdminDeps, ns: string): Promise<void> {
  const r = await attempt(`Unable to delete the limits of '${ns}'`, () => d.client().call<LimitsView>('DELETE', `/namespaces/${seg(ns)}/limits`));
  if (d.json === true) return printJson(d.io, r);
  printOk(d.io, `limits of ${ns} deleted: the system defaults apply`);
}

type Flags = AdminFlags & { json?: boolean };

export function makeAdminCommand(f: Factory): Command {
  const user = new Command('user').description('create, show, delete, list, block and unblock subjects, and rotate their keys');
  user.addCommand(
    adminLeaf(f, 'create', 'create a subject with a namespace and a generated key (printed once)')
      .argument('<subject>')
      .option('--namespace <ns>', 'the namespace (default: the subject name)')
      .action(async (subject: string, o: Flags & { namespace?: string }) => runUserCreate(adminDeps(f, o), subject, o)),
  );
  user.addCommand(
    adminLeaf(f, 'get', "show a subject's namespaces and key uuids (never the keys)")
      .argument('<subject>')
      .action(async (subject: string, o: Flags) => runUserGet(adminDeps(f, o), subject)),
  );
  user.addCommand(
    adminLeaf(f, 'delete', 'delete a subject; its entities are kept unless --cascade')
      .argument('<subject>')
      .option('--cascade', "also delete every entity and the limits of the subject's namespaces")
      .action(async (subject: string, o: Flags & { cascade?: boolean }) => runUserDelete(adminDeps(f, o), subject, o)),
  );
  user.addCommand(
    adminLeaf(f, 'list', 'list subjects')
      .option('--limit <n>', 'at most this many (1-1000, default 100)')
      .option('--skip <n>', 'skip this many')
      .action(async (o: Flags & { limit?: string; skip?: string }) => runUserList(adminDeps(f, o), o)),
  );
  user.addCommand(
    adminLeaf(f, 'block', 'block a subject: every call with its keys gets 403')
      .argument('<subject>')
      .action(async (subject: string, o: Flags) => runUserBlock(adminDeps(f, o), subject, true)),
  );
  user.addCommand(
    adminLeaf(f, 'unblock', 'unblock a subject')
      .argument('<subject>')
      .action(async (subject: string, o: Flags) => runUserBlock(adminDeps(f, o), subject, false)),
  );
  const key = new Command('key').description('rotate keys: add a new one, then delete the old one');
  key.addCommand(
    adminLeaf(f, 'add', 'add a key to a subject (printed once)')
      .argument('<subject>')
      .option('--namespace <ns>', "the namespace (default: the subject's first)")
      .action(async (subject: string, o: Flags & { namespace?: string }) => runKeyAdd(adminDeps(f, o), subject, o)),
  );
  key.addCommand(
    adminLeaf(f, 'delete', 'delete a key by its uuid (not the last of a namespace)')
      .argument('<subject>')
      .argument('<uuid>')
      .action(async (subject: string, uuid: string, o: Flags) => runKeyDelete(adminDeps(f, o), subject, uuid)),
  );
  user.addCommand(key);

  const limits = new Command('limits').description('set, show and delete per-namespace limits');
  const set = adminLeaf(f, 'set', 'set limits of a namespace (only those named change)').argument('<namespace>');
  const about: Record<(typeof INT_LIMITS)[number], string> = {
    invocationsPerMinute: 'invocations per minute (429 over it)',
    concurrentInvocations: 'invocations in flight at once (429 over it)',
    firesPerMinute: 'trigger fires per minute (429 over it)',
    maxLogBytes: 'bytes of logs stored with each activation',
    maxLogLines: 'lines of logs stored with each activation',
  };
  for (const k of INT_LIMITS) set.addOption(new Option(`--${k} <n>`, about[k]));
  set
    .addOption(new Option('--retention <days>', 'days activations are kept (0 = forever)'))
    .addOption(new Option('--allowedKinds <kinds>', 'comma-separated kinds actions may use'))
    .addOption(new Option('--storeActivations <bool>', 'false: successful blocking activations are not stored'))
    .addOption(new Option('--asyncRetryAttempts <n>', 'default retry of non-blocking invokes without a retry annotation: runs in all, the first included (1-10; 1 = no retry)'))
    .addOption(new Option('--asyncRetryBackoffMs <ms>', 'default retry: wait before the second run, doubled each time (0-900000, default 1000)'))
    .addOption(new Option('--asyncRetryOnApplicationError <bool>', 'default retry: true also retries application errors ({error} returned)'))
    .action(async (ns: string, o: Flags & LimitsSetOptions) => runLimitsSet(adminDeps(f, o), ns, o));
  limits.addCommand(set);
  limits.addCommand(
    adminLeaf(f, 'get', 'show the limits set for a namespace')
      .argument('<namespace>')
      .action(async (ns: string, o: Flags) => runLimitsGet(adminDeps(f, o), ns)),
  );
  limits.addCommand(
    adminLeaf(f, 'delete', 'delete the limits of a namespace (back to the system defaults)')
      .argument('<namespace>')
      .action(async (ns: string, o: Flags) => runLimitsDelete(adminDeps(f, o), ns)),
  );

  return new Command('admin').description("operate the platform: wskadmin's user and limits verbs over the admin API").addCommand(user).addCommand(limits);
}
