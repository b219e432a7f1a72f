/** `whirl action get NAME [--url] [--save] [--summary] [--json]`. */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { annotationValue, type Action } from '../../api/types.js';
import { UsageError } from '../../exit.js';
import type { Factory } from '../../factory.js';
import { normalizeApiHost } from '../../config.js';
import { parseQName } from '../../names.js';
import { printJson, printOk } from '../../output.js';
import { addJsonFlag, attempt, deps, leaf, type Deps } from '../shared.js';

export interface ActionGetOptions extends Deps {
  name: string;
  url?: boolean;
  save?: boolean;
  saveAs?: string;
  summary?: boolean;
  json?: boolean;
}

export function makeActionGetCommand(f: Factory, run = runActionGet): Command {
  const cmd = leaf('get', 'get an action')
    .argument('<name>', 'action name')
    .option('--url', 'print the URL of the action (its web URL for a web action)')
    .option('--save', 'save the code to a file named after the action')
    .option('--save-as <file>', 'save the code to this file')
    .option('-s, --summary', 'print a summary');
  addJsonFlag(cmd);
  return cmd.action(async (name: string, o: Omit<ActionGetOptions, keyof Deps | 'name'>) => {
    await run({ ...deps(f), ...o, name });
  });
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
  if (o.json === true) return printJson(o.io, a);
  if (o.summary === true) {
    const c = o.io.colors();
    o.io.out.write(`${c.bold('action')} /${a.namespace}/${a.name}\n`);
    const desc = annotationValue(a.annotations, 'description');
    if (typeof desc === 'string') o.io.out.write(`  ${desc}\n`);
    const params = (a.parameters ?? []).map((p) => p.key);
    o.io.out.write(`   (parameters: ${params.length ? params.join(', ') : 'none defined'})\n`);
    return;
  }
  printOk(o.io, `got action ${o.name}`);
  printJson(o.io, a);
}
