/** Output conventions: wsk's `ok:` lines, tables on a terminal, TSV in a pipe, pretty JSON. */
import type { IOStreams } from './iostreams.js';

export function printOk(io: IOStreams, msg: string): void {
  io.out.write(`${io.colors().green('ok:')} ${msg}\n`);
}

export function printJson(io: IOStreams, value: unknown): void {
  // wsk indents with four spaces; people diff our output against theirs.
  io.out.write(`${JSON.stringify(value, null, 4)}\n`);
}

export function printWarning(io: IOStreams, msg: string): void {
  io.err.write(`${io.errColors().yellow('warning:')} ${msg}\n`);
}

/**
 * On a TTY: an optional bold title line, then aligned columns. In a pipe: tab-separated rows with no title
 * or padding, so `cut -f1` works.
 */
export function printTable(io: IOStreams, title: string | undefined, rows: readonly (readonly string[])[], header?: readonly string[]): void {
  if (!io.isStdoutTTY()) {
    for (const r of rows) io.out.write(`${r.join('\t')}\n`);
    return;
  }
  const c = io.colors();
  if (title !== undefined) io.out.write(`${c.bold(title)}\n`);
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(Math.max(widths[i]!, i === 0 ? 40 : 0))))
      .join('  ')
      .trimEnd();
  if (header) io.out.write(`${c.bold(line(header))}\n`);
  for (const r of rows) io.out.write(`${line(r)}\n`);
}

export function visibility(publish: boolean | undefined): string {
  return publish === true ? 'shared' : 'private';
}
