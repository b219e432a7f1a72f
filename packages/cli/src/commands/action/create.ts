/** `whirl action create|update NAME [ARTIFACT]`: wsk's flags, one PUT. */
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { ActionPut, Exec, KeyValue, Limits } from '../../api/types.js';
import { UsageError } from '../../exit.js';
import type { Factory } from '../../factory.js';
import { inferKind, inferKindOfDirectory, isBinaryArtifact, kindNeedsMain } from '../../kinds.js';
import { fqn, parseQName } from '../../names.js';
import { annotationsFrom, mergeKeyValues, paramsFrom, parseIntFlag, type KVFlags } from '../../params.js';
import { printOk } from '../../output.js';
import { zipDirectory } from '../../zip.js';
import { addAnnotationFlags, addParamFlags, attempt, leaf, runsWith, type Deps } from '../shared.js';

export interface ActionCreateOptions extends Deps, KVFlags {
  update: boolean;
  name: string;
  artifact?: string;
  kind?: string;
  main?: string;
  docker?: string;
  native?: boolean;
  sequence?: boolean;
  timeout?: number;
  memory?: number;
  logsize?: number;
  concurrency?: number;
  web?: string;
  webSecure?: string;
}

const UPLOAD_SPINNER_BYTES = 1024 * 1024;

export function makeActionCreateCommand(f: Factory, update: boolean, run = runActionCreate): Command {
  const cmd = leaf(update ? 'update' : 'create', update ? 'update an existing action, or create it' : 'create a new action')
    .argument('<name>', 'action name: name, pkg/name or /namespace/pkg/name')
    .argument(update ? '[artifact]' : '[artifact]', 'code file, zip, directory, or (with --sequence) a comma-separated list of actions')
    .option('--kind <kind>', 'runtime kind, e.g. nodejs:20 (default: from the file extension)')
    .option('--main <name>', 'name of the entry function (or class, for java)')
    .option('--docker <image>', 'use a custom Docker image (kind blackbox)')
    .option('--native', 'use the docker skeleton with the given binary or zip')
    .option('--sequence', 'ARTIFACT is a comma-separated list of actions to run in order')
    .option('-t, --timeout <ms>', 'time limit in milliseconds', parseIntFlag('-t'))
    .option('-m, --memory <MB>', 'memory limit in MB', parseIntFlag('-m'))
    .option('-l, --logsize <MB>', 'log size limit in MB', parseIntFlag('-l'))
    .option('-c, --concurrency <n>', 'max concurrent activations per container', parseIntFlag('-c'))
    .option('--web <true|false|raw>', 'expose the action as a web action')
    .option('--web-secure <true|false|token>', 'require a secret token for the web action');
  addParamFlags(cmd);
  addAnnotationFlags(cmd);
  return runsWith(cmd, f, run, ['name', 'artifact'], { update });
}

function webAnnotations(web: string | undefined, webSecure: string | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  if (web !== undefined) {
    const w = web.toLowerCase();
    if (w === 'true' || w === 'yes') out.push({ key: 'web-export', value: true }, { key: 'raw-http', value: false }, { key: 'final', value: true });
    else if (w === 'raw') out.push({ key: 'web-export', value: true }, { key: 'raw-http', value: true }, { key: 'final', value: true });
    else if (w === 'false' || w === 'no') out.push({ key: 'web-export', value: false });
    else throw new UsageError(`flag --web expects true, false or raw, got '${web}'`);
  }
  if (webSecure !== undefined) {
    const s = webSecure.toLowerCase();
    // wsk turns `true` into a random number the caller must then read back with `action get`.
    if (s === 'true' || s === 'yes') out.push({ key: 'require-whisk-auth', value: randomInt(1, 2 ** 47) });
    else if (s === 'false' || s === 'no') out.push({ key: 'require-whisk-auth', value: false });
    else out.push({ key: 'require-whisk-auth', value: webSecure });
  }
  return out;
}

/** Reads the artifact as wsk would send it: text for source files, base64 for zip/jar/bin and directories. */
export function readArtifact(file: string, kindFlag: string | undefined): { code: string; kind: string; bytes: number } {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new UsageError(`Unable to read '${file}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  if (st.isDirectory()) {
    const kind = kindFlag ?? inferKindOfDirectory(readdirSync(file), file);
    const zip = zipDirectory(file);
    return { code: zip.toString('base64'), kind, bytes: zip.length };
  }
  const kind = kindFlag ?? inferKind(file);
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new UsageError(`Unable to read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const code = isBinaryArtifact(file) ? buf.toString('base64') : buf.toString('utf8');
  return { code, kind, bytes: buf.length };
}

export async function runActionCreate(o: ActionCreateOptions): Promise<void> {
  const cfg = o.config();
  const q = parseQName(o.name, cfg.namespace.value);
  let exec: Exec | undefined;
  let bytes = 0;
  if (o.sequence === true) {
    if (o.artifact === undefined) throw new UsageError('--sequence needs a comma-separated list of actions, e.g. whirl action create s --sequence a,b');
    const components = o.artifact
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '')
      .map((c) => fqn(parseQName(c, cfg.namespace.value)));
    if (components.length === 0) throw new UsageError('--sequence needs at least one action');
    exec = { kind: 'sequence', components };
  } else if (o.docker !== undefined || o.native === true) {
    exec = { kind: 'blackbox', image: o.docker ?? 'openwhisk/dockerskeleton' };
    if (o.artifact !== undefined) {
      const a = readArtifact(o.artifact, 'blackbox');
      exec.code = a.code;
      bytes = a.bytes;
    }
  } else if (o.artifact !== undefined) {
    const a = readArtifact(o.artifact, o.kind);
    exec = { kind: a.kind, code: a.code };
    bytes = a.bytes;
    if (kindNeedsMain(a.kind) && o.main === undefined) throw new UsageError(`Actions of kind ${a.kind} require --main to name the entry class or function.`);
  } else if (!o.update) {
    throw new UsageError(`An action file, directory, --docker image or --sequence list is required to create '${o.name}'.`);
  } else if (o.kind !== undefined || o.main !== undefined) {
    throw new UsageError('--kind and --main need an action file.');
  }
  if (exec && o.main !== undefined) exec.main = o.main;
  const limits: Limits = {};
  if (o.timeout !== undefined) limits.timeout = o.timeout;
  if (o.memory !== undefined) limits.memory = o.memory;
  if (o.logsize !== undefined) limits.logs = o.logsize;
  if (o.concurrency !== undefined) limits.concurrency = o.concurrency;
  const body: ActionPut = {};
  if (exec) body.exec = exec;
  const params = paramsFrom(o);
  if (params) body.parameters = params;
  const web = webAnnotations(o.web, o.webSecure);
  const annotations = annotationsFrom(o);
  if (annotations || web.length) body.annotations = mergeKeyValues(annotations ?? [], web);
  if (Object.keys(limits).length) body.limits = limits;
  const verb = o.update ? 'update' : 'create';
  const stop = bytes > UPLOAD_SPINNER_BYTES ? o.io.startSpinner(`Uploading ${(bytes / 1024 / 1024).toFixed(1)} MB`) : () => undefined;
  try {
    await attempt(`Unable to ${verb} action '${o.name}'`, () => o.client().putAction(q.namespace, q.entity, body, o.update));
  } finally {
    stop();
  }
  printOk(o.io, `${verb}d action ${o.name}`);
}
