/** Starting and updating the reaper (reaper.ts) from a process that wants to be cleaned up after. */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReaperState } from './reaper.js';

export type { ReaperState };

const REAPER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reaper.ts');

export interface Reaper {
  /** Replaces what is cleaned up (e.g. once more processes were started). */
  update(state: Omit<ReaperState, 'parent'>): void;
  /** The parent stopped cleanly: the reaper exits without doing anything. */
  dismiss(): void;
}

/**
 * Starts a reaper for this process. `stateFile` should live in the process's own state directory; it
 * is written atomically enough for the reaper's polling (small, one write).
 */
export function startReaper(stateFile: string, state: Omit<ReaperState, 'parent'>): Reaper {
  const write = (s: Omit<ReaperState, 'parent'>): void => writeFileSync(stateFile, JSON.stringify({ ...s, parent: process.pid }));
  write(state);
  // The reaper is TypeScript: run it through tsx (resolved from the repository, whatever this
  // process's own loader is, e.g. a vitest worker's), in its own session so that Ctrl-C misses it.
  const root = path.resolve(path.dirname(REAPER), '../../..');
  const child = spawn(process.execPath, ['--import', 'tsx', REAPER, stateFile], { cwd: root, detached: true, stdio: 'ignore' });
  child.unref();
  return {
    update: write,
    dismiss: () => rmSync(stateFile, { force: true }),
  };
}
