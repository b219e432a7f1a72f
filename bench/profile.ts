/**
 * `tsx bench/profile.ts [seconds]`: CPU-profiles standalone Whirl under the warm-latency loop
 * (node --cpu-prof) and prints the top self-time functions and packages of the steady-state window.
 * Not a benchmark (no floor); it is how the hot-path findings in bench/README.md were made.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { phaseSeconds } from './lib/config.js';
import { selfTimes } from './lib/cpuprofile.js';
import { runLoad } from './lib/load.js';
import { log } from './lib/report.js';
import { Scope } from './lib/scope.js';
import { putAction, runTag, startStandaloneWhirl } from './lib/whirl.js';

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? phaseSeconds(20));
  const concurrency = Number(process.env.PROFILE_CLIENTS ?? 1);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'whirl-prof-'));
  const scope = new Scope();
  let loadMs = 0;
  let stopMs = 0;
  let count = 0;
  try {
    const w = await startStandaloneWhirl(scope, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
    const action = `${runTag()}_noop`;
    await putAction(w, action);
    const r = await runLoad(scope, {
      target: { origin: w.apiHost, paths: [`/api/v1/namespaces/_/actions/${action}?blocking=true&result=true`], method: 'POST', headers: { authorization: `Basic ${Buffer.from(w.auth).toString('base64')}`, 'content-type': 'application/json' }, body: '{}' },
      concurrency,
      seconds,
      warmupSeconds: 2,
    });
    loadMs = r.seconds * 1000;
    count = r.latenciesMs.length;
    const t0 = Date.now();
    await scope.close();
    stopMs = Date.now() - t0;
  } finally {
    await scope.close();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
  // Skip shut-down (and a margin around the load generator's start and end).
  const st = selfTimes(path.join(dir, file), { windowUs: (loadMs - 1000) * 1000, skipEndUs: (stopMs + 500) * 1000 });
  const perReq = (ms: number): string => ((ms / count) * 1000 * ((loadMs - 1000) / loadMs)).toFixed(1);
  process.stdout.write(`profile: ${path.join(dir, file)}\n${count} invokes in ${(loadMs / 1000).toFixed(1)} s (${concurrency} client(s)); window ${(st.totalMs / 1000).toFixed(1)} s sampled\n\n`);
  process.stdout.write('self time by package              ms      %   µs/invoke\n');
  for (const o of st.byOwner.slice(0, 15)) process.stdout.write(`${o.key.padEnd(30)} ${o.ms.toFixed(0).padStart(7)} ${(o.share * 100).toFixed(1).padStart(6)} ${perReq(o.ms).padStart(10)}\n`);
  process.stdout.write('\ntop self-time functions\n');
  for (const f of st.byFunction.slice(0, 30)) process.stdout.write(`${f.ms.toFixed(0).padStart(7)} ms ${(f.share * 100).toFixed(1).padStart(5)}%  ${perReq(f.ms).padStart(6)} µs/inv  ${f.key}\n`);
  log('done');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
