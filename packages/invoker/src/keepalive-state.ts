/**
 * The keep-alive policy's memory across restarts: a JSON file beside the invoker's other state. A
 * restarted invoker (an upgrade, a crash) would otherwise forget every idle-time histogram and serve
 * each action with the fixed rule until it has seen five more idle times, which for an action called
 * hourly is most of a working day.
 *
 * Written whole to a temporary file and renamed over the old one, so a crash mid-write leaves the
 * previous copy; saved every few minutes and at stop, so a crash loses minutes of learning, not all.
 * A file that cannot be read, or that was learnt with other bins, is reported and ignored: the policy
 * starts afresh, exactly as without a file.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { KeepAlivePolicy, KeepAliveState } from './keepalive.js';

const StateSchema: z.ZodType<KeepAliveState> = z.object({
  version: z.literal(1),
  binMs: z.number(),
  bins: z.number(),
  actions: z.array(
    z.object({
      action: z.string(),
      bins: z.array(z.tuple([z.number(), z.number()])),
      outOfRange: z.number(),
      forecastMs: z.number().optional(),
    }),
  ),
});

export interface StateLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

/** Loads `file` into `policy`; resolves with how many actions it knew (0 when there was nothing to load). */
export async function loadKeepAliveState(file: string, policy: KeepAlivePolicy, log: StateLog): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ err, file }, 'could not read the keep-alive state; the policy starts afresh');
    return 0;
  }
  try {
    const n = policy.importState(StateSchema.parse(JSON.parse(text)));
    if (n > 0) log.info({ file, actions: n }, 'keep-alive policy resumed what it had learnt');
    return n;
  } catch (err) {
    log.warn({ err, file }, 'ignoring the keep-alive state file; the policy starts afresh');
    return 0;
  }
}

/** Writes what `policy` has learnt to `file` (nothing for a policy that learns nothing). */
export async function saveKeepAliveState(file: string, policy: KeepAlivePolicy): Promise<void> {
  const state = policy.exportState();
  if (!state) return;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
  await rename(tmp, file);
}
