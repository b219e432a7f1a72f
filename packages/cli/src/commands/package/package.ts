/** `whirl package create|update|bind|get|delete|list` (OPENWHISK-COMPAT.md §1.6, §12). */
import { Command } from 'commander';
import type { PackagePut } from '../../api/types.js';
import type { Factory } from '../../factory.js';
import { parseFlatName } from '../../names.js';
import { annotationsFrom, paramsFrom, type KVFlags } from '../../params.js';
import { printJson, printOk } from '../../output.js';
import { addPageFlags, entityRows, namespaceArg, printGot, printList, type PageFlags } from '../listing.js';
import { addAnnotationFlags, addJsonFlag, addParamFlags, attempt, leaf, parseBoolWord, runsWith, type Deps } from '../shared.js';

export interface PackageCreateOptions extends Deps, KVFlags {
  update: boolean;
  name: string;
  shared?: string | boolean;
}

export function makePackageCreateCommand(f: Factory, update: boolean, run = runPackageCreate): Command {
  const cmd = leaf(update ? 'update' : 'create', update ? 'update an existing package, or create it' : 'create a new package')
    .argument('<name>', 'package name')
    .option('--shared [yes|no]', 'share the package with every namespace (publish)');
  addParamFlags(cmd);
  addAnnotationFlags(cmd);
  return runsWith(cmd, f, run, ['name'], { update });
}

function sharedFlag(v: string | boolean | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === true) return true;
  if (v === false) return false;
  return parseBoolWord('--shared', v);
}

export async function runPackageCreate(o: PackageCreateOptions): Promise<void> {
  const q = parseFlatName(o.name, o.config().namespace.value, 'package');
  const verb = o.update ? 'update' : 'create';
  const body: PackagePut = {};
  const params = paramsFrom(o);
  const annotations = annotationsFrom(o);
  const publish = sharedFlag(o.shared);
  if (params) body.parameters = params;
  if (annotations) body.annotations = annotations;
  if (publish !== undefined) body.publish = publish;
  await attempt(`Unable to ${verb} package '${o.name}'`, () => o.client().putPackage(q.namespace, q.entity, body, o.update));
  printOk(o.io, `${verb}d package ${o.name}`);
}

export interface PackageBindOptions extends Deps, KVFlags {
  source: string;
  name: string;
}

export function makePackageBindCommand(f: Factory, run = runPackageBind): Command {
  const cmd = leaf('bind', 'bind parameters to a package')
    .argument('<package>', 'package to bind to, e.g. /whisk.system/utils')
    .argument('<name>', 'name of the new binding');
  addParamFlags(cmd);
  addAnnotationFlags(cmd);
  return runsWith(cmd, f, run, ['source', 'name']);
}

export async function runPackageBind(o: PackageBindOptions): Promise<void> {
  const ns = o.config().namespace.value;
  const q = parseFlatName(o.name, ns, 'package');
  const src = parseFlatName(o.source, ns, 'package');
  const body: PackagePut = { binding: { namespace: src.namespace, name: src.name } };
  const params = paramsFrom(o);
  const annotations = annotationsFrom(o);
  if (params) body.parameters = params;
  if (annotations) body.annotations = annotations;
  await attempt(`Unable to bind package '${o.name}'`, () => o.client().putPackage(q.namespace, q.entity, body, false));
  printOk(o.io, `created binding ${o.name}`);
}

export interface PackageGetOptions extends Deps {
  name: string;
  summary?: boolean;
  json?: boolean;
}

export function makePackageGetCommand(f: Factory, run = runPackageGet): Command {
  const cmd = leaf('get', 'get a package').argument('<name>', 'package name').option('-s, --summary', 'print a summary');
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

export async function runPackageGet(o: PackageGetOptions): Promise<void> {
  const q = parseFlatName(o.name, o.config().namespace.value, 'package');
  const p = await attempt(`Unable to get package '${o.name}'`, () => o.client().getPackage(q.namespace, q.entity));
  const summary = (): void => {
    const c = o.io.colors();
    o.io.out.write(`${c.bold('package')} /${p.namespace}/${p.name}\n`);
    const params = (p.parameters ?? []).map((kv) => kv.key);
    o.io.out.write(`   (parameters: ${params.length ? params.join(', ') : 'none defined'})\n`);
    for (const a of p.actions ?? []) o.io.out.write(` ${c.bold('action')} /${p.namespace}/${p.name}/${a.name}\n`);
    for (const a of p.feeds ?? []) o.io.out.write(` ${c.bold('feed')}   /${p.namespace}/${p.name}/${a.name}\n`);
  };
  printGot(o, `package ${o.name}`, p, o.summary === true ? summary : undefined);
}

export interface PackageDeleteOptions extends Deps {
  name: string;
  force?: boolean;
  json?: boolean;
}

export function makePackageDeleteCommand(f: Factory, run = runPackageDelete): Command {
  const cmd = leaf('delete', 'delete a package').argument('<name>', 'package name').option('--force', 'also delete the actions in the package');
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

export async function runPackageDelete(o: PackageDeleteOptions): Promise<void> {
  const q = parseFlatName(o.name, o.config().namespace.value, 'package');
  const p = await attempt(`Unable to delete package '${o.name}'`, () => o.client().deletePackage(q.namespace, q.entity, o.force === true ? true : undefined));
  if (o.json === true) printJson(o.io, p);
  else printOk(o.io, `deleted package ${o.name}`);
}

export interface PackageListOptions extends Deps, PageFlags {
  namespace?: string;
  json?: boolean;
}

export function makePackageListCommand(f: Factory, run = runPackageList): Command {
  const cmd = addPageFlags(leaf('list', 'list packages').argument('[namespace]', 'namespace (default: yours; another one shows its shared packages)'));
  return runsWith(addJsonFlag(cmd), f, run, ['namespace']);
}

export async function runPackageList(o: PackageListOptions): Promise<void> {
  const ns = namespaceArg(o);
  const list = await attempt('Unable to obtain the list of packages', () => o.client().listPackages(ns, { limit: o.limit, skip: o.skip }));
  printList(o, list, { title: 'packages', rows: (l) => entityRows(l) });
}

export function makePackageCommand(f: Factory): Command {
  return new Command('package')
    .description('work with packages')
    .addCommand(makePackageCreateCommand(f, false))
    .addCommand(makePackageCreateCommand(f, true))
    .addCommand(makePackageBindCommand(f))
    .addCommand(makePackageGetCommand(f))
    .addCommand(makePackageDeleteCommand(f))
    .addCommand(makePackageListCommand(f));
}
