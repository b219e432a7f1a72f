#!/usr/bin/env node
/**
 * The reaper: a small detached process that outlives whoever started it, so that a launcher killed
 * outright (SIGKILL, OOM killer, a closed terminal) still leaves no process and no action container
 * behind. It is started with the path of a JSON state file (see ReaperState) and polls its parent;
 * when the parent is gone it stops the listed processes (TERM, then KILL), removes every container
 * carrying one of the listed `whirl.owner` labels, runs the listed stop commands, deletes the state
 * file and exits. A parent that stops normally deletes the state file itself, and the reaper then
 * just exits. Signals from the terminal do not reach it (it runs in its own session).
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';

const run = promisify(execFile);

export interface ReaperState {
  /** The process whose death triggers the clean-up. */
  parent: number;
  /** Processes to stop (TERM, then KILL after `graceMs`). */
  pids?: number[];
  /** `whirl.owner` label values whose containers are removed. */
  owners?: string[];
  /** Commands run last, in order (e.g. dev-service stop scripts): argv arrays. */
  stopCommands?: string[][];
  graceMs?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readState(file: string): ReaperState | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ReaperState;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function reap(state: ReaperState): Promise<void> {
  const pids = (state.pids ?? []).filter(alive);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
  const deadline = Date.now() + (state.graceMs ?? 20_000);
  while (pids.some(alive) && Date.now() < deadline) await sleep(200);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  if ((state.owners ?? []).length > 0) {
    const docker = new Dockerode();
    for (const owner of state.owners ?? []) {
      const list = await docker.listContainers({ all: true, filters: { label: [`whirl.owner=${owner}`] } }).catch(() => []);
      await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    }
  }
  for (const [cmd, ...args] of state.stopCommands ?? []) {
    if (cmd) await run(cmd, args, { timeout: 60_000 }).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: reaper <state-file>');
  for (;;) {
    const state = readState(file);
    // The parent removed the file: it stopped cleanly, nothing to do.
    if (!state) return;
    if (!alive(state.parent)) {
      await reap(state);
      rmSync(file, { force: true });
      return;
    }
    await sleep(500);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`whirl reaper: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
