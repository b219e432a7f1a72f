import { HybridKeepAlive, FixedKeepAlive } from '@whirl/invoker';
import { simulate } from './lib/keepalive-sim.js';
import { syntheticTrace } from './lib/trace.js';
const tr = syntheticTrace({ functions: 200, minutes: 1440, seed: 1 });
const fs = tr.functions.filter((f) => f.shape === 'bursty').slice(0, 6);
for (const f of fs) {
  const h = new HybridKeepAlive({ idleTimeoutMs: 600000 });
  const r = simulate({ minutes: 1440, functions: [f] }, { policy: h, compression: 1, coldMs: 300, warmMs: 3 });
  const x = simulate({ minutes: 1440, functions: [f] }, { policy: new FixedKeepAlive(600000), compression: 1, coldMs: 300, warmMs: 3 });
  const s = h.snapshot().actions[0]!;
  console.log(f.id, f.arrivals.length, 'dur', f.durationMs, 'hyb cold', r.cold, 'fixed cold', x.cold, 'idle', r.idleGbS.toFixed(0), x.idleGbS.toFixed(0), JSON.stringify(s));
}
