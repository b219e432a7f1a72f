/**
 * What wsk's list and get commands share. A list takes `-l/--limit` and `-s/--skip` and prints the raw
 * answer with `--json`, otherwise a table (see printTable: titled on a terminal, TSV in a pipe). A get
 * prints the raw answer with `--json`, otherwise its summary when asked for one, otherwise
 * `ok: got <what>` and the pretty JSON.
 */
import type { Command } from 'commander';
import type { IOStreams } from '../iostreams.js';
import { printJson, printOk, printTable, visibility } from '../output.js';
import { parseIntFlag } from '../params.js';
import type { Deps } from './shared.js';

export interface PageFlags {
  limit?: number;
  skip?: number;
}

/** `api list` keeps wsk's own help texts and defaults; every other list says what the server does with 0. */
export interface PageFlagSpec {
  limit: string;
  skip: string;
  defaults?: { limit: number; skip: number };
}

const ENTITY_PAGES: PageFlagSpec = { limit: 'at most this many (0 = 200)', skip: 'skip this many' };

export function addPageFlags(cmd: Command, spec: PageFlagSpec = ENTITY_PAGES): Command {
  return cmd
    .option('-l, --limit <n>', spec.limit, parseIntFlag('--limit'), spec.defaults?.limit)
    .option('-s, --skip <n>', spec.skip, parseIntFlag('--skip'), spec.defaults?.skip);
}

/** The namespace a `list [namespace]` names (`ns` or `/ns`), else the configured one. */
export function namespaceArg(o: Pick<Deps, 'config'> & { namespace?: string }): string {
  return o.namespace?.replace(/\//g, '') ?? o.config().namespace.value;
}

interface Listed {
  namespace: string;
  name: string;
  publish?: boolean;
}

/** `/namespace/name` and shared/private, then the command's own columns; `--name-sort` orders by the first. */
export function entityRows<T extends Listed>(list: readonly T[], nameSort?: boolean, extra: (t: T) => string[] = () => []): string[][] {
  const items = [...list];
  if (nameSort === true) items.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  return items.map((t) => [`/${t.namespace}/${t.name}`, visibility(t.publish), ...extra(t)]);
}

export function printList<T>(
  o: { io: IOStreams; json?: boolean },
  list: readonly T[],
  table: { title?: string; header?: readonly string[]; rows: (list: readonly T[]) => string[][] },
): void {
  if (o.json === true) return printJson(o.io, list);
  printTable(o.io, table.title, table.rows(list), table.header);
}

/** `what` completes `ok: got …` (`action hello`); `summary` is given only when the user asked for one. */
export function printGot(o: { io: IOStreams; json?: boolean }, what: string, value: unknown, summary?: () => void): void {
  if (o.json === true) return printJson(o.io, value);
  if (summary !== undefined) return summary();
  printOk(o.io, `got ${what}`);
  printJson(o.io, value);
}
