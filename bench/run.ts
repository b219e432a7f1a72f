/**
 * `pnpm bench [name...]`: runs the benchmarks (all, or the named ones) one after another. Each prints
 * JSON lines on stdout (and a table on a terminal) and stops whatever it started, also on failure or
 * Ctrl-C. Exit status 1 when a benchmark failed to run (not when a target was missed).
 */
import type { Benchmark } from './lib/bench.js';
import { figure, log, Reporter } from './lib/report.js';
import { closeAll, Scope } from './lib/scope.js';
import { activationsBench } from './benchmarks/activations.js';
import { coldChurnBench } from './benchmarks/cold-churn.js';
import { coldStartBench } from './benchmarks/cold-start.js';
import { footprintBench } from './benchmarks/footprint.js';
import { keepAliveBench } from './benchmarks/keepalive.js';
import { kafkaFeedBench } from './benchmarks/kafka-feed.js';
import { sequenceBench } from './benchmarks/sequence.js';
import { throughputBench } from './benchmarks/throughput.js';
import { warmLatencyBench } from './benchmarks/warm-latency.js';
import { usageBench } from './benchmarks/usage.js';

const benchmarks: readonly Benchmark[] = [
  warmLatencyBench,
  throughputBench,
  coldStartBench,
  coldChurnBench,
  activationsBench,
  sequenceBench,
  footprintBench,
  keepAliveBench,
  usageBench,
  kafkaFeedBench,
];

async function main(): Promise<number> {
  const names = process.argv.slice(2).filter((a) => a !== '--');
  if (names.includes('--help') || names.includes('-h')) {
    process.stdout.write(`usage: pnpm bench [name...]   (BENCH_SECONDS=N caps every measured phase)\n${benchmarks.map((b) => `  ${b.name.padEnd(14)} ${b.description}`).join('\n')}\n`);
    return 0;
  }
  const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected = names.length > 0 ? benchmarks.filter((b) => names.includes(b.name)) : benchmarks;
  const reporter = new Reporter();
  let failed = 0;
  const t0 = Date.now();
  for (const b of selected) {
    const scope = new Scope();
    const from = reporter.all().length;
    const started = Date.now();
    log(`${b.name}: start`);
    try {
      await b.run({
        scope,
        emit: (input) => {
          const f = figure(input);
          reporter.emit(f);
          return f;
        },
        log,
      });
    } catch (err) {
      failed++;
      log(`${b.name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    } finally {
      await scope.close();
    }
    log(`${b.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    reporter.table(b.name, from);
  }
  log(`all done in ${((Date.now() - t0) / 1000).toFixed(1)} s${failed ? `, ${failed} failed` : ''}`);
  return failed > 0 ? 1 : 0;
}

let interrupted = false;
const onSignal = (sig: string): void => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log(`${sig}: stopping everything this run started ...`);
  closeAll().then(
    () => process.exit(130),
    () => process.exit(130),
  );
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
