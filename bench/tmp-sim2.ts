import { makeKeepAlivePolicy, type HybridOptions } from '@whirl/invoker';
import { simulate } from './lib/keepalive-sim.js';
import { syntheticTrace } from './lib/trace.js';
const C = Number(process.env.C ?? 240);
const tr = syntheticTrace({ functions: 200, minutes: 1440, seed: 1 });
const extra: Partial<HybridOptions> = JSON.parse(process.argv[2] ?? '{}');
const by: Record<string, Record<string, [number, number, number]>> = {};
for (const p of ['fixed', 'hybrid'] as const) {
  for (const f of tr.functions) {
    const r = simulate({ minutes: tr.minutes, functions: [f] }, { policy: makeKeepAlivePolicy(p, { idleTimeoutMs: 600000 / C, binMs: 60000 / C, ...extra }), compression: C, coldMs: 300, warmMs: 3 });
    const s = (by[f.shape] ??= {});
    const v = (s[p] ??= [0, 0, 0]);
    v[0] += r.cold; v[1] += r.calls; v[2] += r.idleGbS;
  }
}
let tot: Record<string, [number, number, number]> = { fixed: [0, 0, 0], hybrid: [0, 0, 0] };
for (const [shape, s] of Object.entries(by)) {
  console.log(shape.padEnd(9), Object.entries(s).map(([p, v]) => { tot[p]![0] += v[0]; tot[p]![1] += v[1]; tot[p]![2] += v[2]; return `${p} cold ${(100 * v[0] / v[1]).toFixed(1)}% (${v[0]}/${v[1]}) idle ${v[2].toFixed(0)}`; }).join(' | '));
}
console.log('total    ', Object.entries(tot).map(([p, v]) => `${p} cold ${(100 * v[0] / v[1]).toFixed(2)}% idle ${v[2].toFixed(0)}`).join(' | '));
