/** Kind inference from a file name, as wsk does it (OPENWHISK-COMPAT.md §12). */
import path from 'node:path';
import { UsageError } from './exit.js';

const BY_EXT: Record<string, string> = {
  '.js': 'nodejs:default',
  '.mjs': 'nodejs:default',
  '.cjs': 'nodejs:default',
  '.py': 'python:default',
  '.swift': 'swift:default',
  '.java': 'java:default',
  '.jar': 'java:default',
  '.php': 'php:default',
  '.rb': 'ruby:default',
  '.rs': 'rust:default',
  '.go': 'go:default',
  '.bal': 'ballerina:default',
};

/** Files that are sent base64-encoded rather than as text. */
export function isBinaryArtifact(file: string): boolean {
  return ['.zip', '.jar', '.bin'].includes(path.extname(file).toLowerCase());
}

export function inferKind(file: string): string {
  const ext = path.extname(file).toLowerCase();
  const kind = BY_EXT[ext];
  if (kind !== undefined) return kind;
  if (ext === '.zip') throw new UsageError(`Cannot infer the kind of the zip file '${file}': pass --kind (e.g. --kind nodejs:20).`);
  throw new UsageError(
    ext === '' ? `Cannot infer the kind of '${file}' (no file extension): pass --kind.` : `Cannot infer the kind from the extension '${ext}' of '${file}': pass --kind.`,
  );
}

/** A kind that needs --main (wsk: java). */
export function kindNeedsMain(kind: string): boolean {
  return kind.startsWith('java:') || kind.startsWith('dotnet:');
}

/** Directories: guess from the entry file so that `action create x ./dir` works for the common cases. */
export function inferKindOfDirectory(entries: readonly string[], dir: string): string {
  if (entries.includes('package.json') || entries.includes('index.js')) return 'nodejs:default';
  if (entries.includes('__main__.py')) return 'python:default';
  if (entries.includes('exec')) return 'blackbox';
  throw new UsageError(`Cannot infer the kind of the directory '${dir}' (no package.json, index.js or __main__.py): pass --kind.`);
}
