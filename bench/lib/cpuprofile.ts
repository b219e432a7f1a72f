/** Self time per function (and per package) from a V8 .cpuprofile, optionally within a time window. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  key: string;
  ms: number;
  share: number;
}

/** Where a function lives: `pkg:<npm package>`, `whirl:<package>`, `node:` internals, or V8 pseudo-frames. */
export function owner(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg:${nm[1]}`;
  const ws = /\/packages\/([^/]+)\//.exec(url);
  if (ws) return `whirl:${ws[1]}`;
  if (url.startsWith('node:')) return 'node:internals';
  return url;
}

/**
 * `windowUs`: only samples from this many microseconds before the profile's end, minus `skipEndUs`
 * (to cut start-up and shut-down out of a steady-state profile).
 */
export function selfTimes(file: string, opts: { windowUs?: number; skipEndUs?: number } = {}): { byFunction: SelfTime[]; byOwner: SelfTime[]; totalMs: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const to = p.endTime - (opts.skipEndUs ?? 0);
  const from = opts.windowUs !== undefined ? to - opts.windowUs : p.startTime;
  const fn = new Map<string, number>();
  const own = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    // Each sample stands for the interval up to the next one.
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (t < from || t > to) continue;
    const node = byId.get(p.samples[i]!);
    if (!node) continue;
    const cf = node.callFrame;
    const file = cf.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?|packages\/)/, '');
    const key = `${cf.functionName || '(anonymous)'} ${file ? `${file}:${cf.lineNumber + 1}` : ''}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + dt);
    const o = owner(cf.url, cf.functionName);
    own.set(o, (own.get(o) ?? 0) + dt);
    total += dt;
  }
  const rank = (m: Map<string, number>): SelfTime[] =>
    [...m.entries()].map(([key, us]) => ({ key, ms: us / 1000, share: total ? us / total : 0 })).sort((a, b) => b.ms - a.ms);
  return { byFunction: rank(fn), byOwner: rank(own), totalMs: total / 1000 };
}
