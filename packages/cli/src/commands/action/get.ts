/** `whirl action get NAME [--url] [--save] [--summary] [--usage [--last N]] [--json]`. */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { annotationValue, type Action } from '../../api/types.js';
import { UsageError } from '../../exit.js';
import type { ActionUsage } from '../../api/types.js';
import type { Factory } from '../../factory.js';
import { normalizeApiHost } from '../../config.js';
import { parseQName } from '../../names.js';
import { printJson, printOk, printTable } from '../../output.js';
import { printGot } from '../listing.js';
import { addJsonFlag, attempt, leaf, runsWith, type Deps } from '../shared.js';

export interface ActionGetOptions extends Deps {
  name: string;
  url?: boolean;
  save?: boolean;
  saveAs?: string;
  summary?: boolean;
  usage?: boolean;
  last?: string;
  json?: boolean;
}

export function makeActionGetCommand(f: Factory, run = runActionGet): Command {
  const cmd = leaf('get', 'get an action')
    .argument('<name>', 'action name')
    .option('--url', 'print the URL of the action (its web URL for a web action)')
    .option('--save', 'save the code to a file named after the action')
    .option('--save-as <file>', 'save the code to this file')
    .option('-s, --summary', 'print a summary')
    .option('--usage', 'memory peak and CPU time over recent activations, and a memory limit to set')
    .option('--last <n>', 'with --usage: how many recent activations to look at (1..200, default 100)');
  return runsWith(addJsonFlag(cmd), f, run, ['name']);
}

const EXT: Record<string, string> = { nodejs: '.js', python: '.py', swift: '.swift', php: '.php', ruby: '.rb', go: '.go', rust: '.rs', java: '.java', ballerina: '.bal' };

export function actionUrl(apihost: string, a: Action): string {
  const [ns, pkg] = a.namespace.split('/');
  const web = annotationValue(a.annotations, 'web-export');
  if (web === true || web === 'true' || web === 'yes') {
    return `${apihost}/api/v1/web/${ns}/${pkg ?? 'default'}/${encodeURIComponent(a.name)}`;
  }
  return `${apihost}/api/v1/namespaces/${ns}/actions/${pkg !== undefined ? `${pkg}/` : ''}${encodeURIComponent(a.name)}`;
}

export async function runActionGet(o: ActionGetOptions): Promise<void> {
  const cfg = o.config();
  const q = parseQName(o.name, cfg.namespace.value);
  if (o.usage === true) return printUsage(o, q.namespace, q.entity);
  if (o.last !== undefined) throw new UsageError('--last goes with --usage.');
  const wantCode = o.save === true || o.saveAs !== undefined || !(o.url === true || o.summary === true);
  const a = await attempt(`Unable to get action '${o.name}'`, () => o.client().getAction(q.namespace, q.entity, wantCode));
  if (o.url === true) {
    const url = actionUrl(normalizeApiHost(cfg.apihost.value ?? ''), a);
    if (o.json === true) printJson(o.io, { url });
    else {
      printOk(o.io, `got action ${o.name}`);
      o.io.out.write(`${url}\n`);
    }
    return;
  }
  if (o.save === true || o.saveAs !== undefined) {
    const code = a.exec.code;
    if (code === undefined) throw new UsageError(`The action '${o.name}' has no code to save (kind ${a.exec.kind}).`);
    const family = a.exec.kind.split(':')[0] ?? '';
    const file = path.resolve(o.saveAs ?? `${a.name}${a.exec.binary === true ? '.zip' : (EXT[family] ?? '.txt')}`);
    if (existsSync(file)) throw new UsageError(`The file '${file}' already exists; pass --save-as with another name.`);
    writeFileSync(file, a.exec.binary === true ? Buffer.from(code, 'base64') : code);
    printOk(o.io, `saved action code to ${file}`);
    return;
  }
  const summary = (): void => {
    const c = o.io.colors();
    o.io.out.write(`${c.bold('action')} /${a.namespace}/${a.name}\n`);
    const desc = annotationValue(a.annotations, 'description');
    if (typeof desc === 'string') o.io.out.write(`  ${desc}\n`);
    const params = (a.parameters ?? []).map((p) => p.key);
    o.io.out.write(`   (parameters: ${params.length ? params.join(', ') : 'none defined'})\n`);
  };
  printGot(o, `action ${o.name}`, a, o.summary === true ? summary : undefined);
}

async function printUsage(o: ActionGetOptions, ns: string, entity: string): Promise<void> {
  let last: number | undefined;
  if (o.last !== undefined) {
    last = /^\d+$/.test(o.last) ? Number(o.last) : NaN;
    if (!(last >= 1 && last <= 200)) throw new UsageError(`--last must be a whole number from 1 to 200, got '${o.last}'.`);
  }
  const u: ActionUsage = await attempt(`Unable to get the usage of action '${o.name}'`, () => o.client().actionUsage(ns, entity, last));
  if (o.json === true) return printJson(o.io, u);
  const c = o.io.colors();
  o.io.out.write(`${c.bold('usage')} /${u.namespace}/${u.name}: ${u.measured} of the last ${u.activations} activation(s) measured`);
  o.io.out.write(u.shared > 0 ? ` (${u.shared} shared a container with others)\n` : '\n');
  if (!u.memoryPeakMB || !u.cpuMs) {
    o.io.out.write('No activation with usage figures yet: invoke the action (in Docker or as a local process) and ask again.\n');
    return;
  }
  const row = (label: string, d: NonNullable<ActionUsage['cpuMs']>): string[] => [label, String(d.p50), String(d.p90), String(d.p99), String(d.max)];
  printTable(o.io, undefined, [row('memory peak (MB)', u.memoryPeakMB), row('cpu (ms)', u.cpuMs)], ['', 'p50', 'p90', 'p99', 'max']);
  if (u.recommendation) {
    o.io.out.write(`memory limit: ${u.memoryLimitMB} MB; recommended: ${u.recommendation.memoryMB} MB (${u.recommendation.reason})\n`);
  }
}
