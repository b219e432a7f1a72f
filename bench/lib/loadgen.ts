/** Child-process entry of the load generator (see load.ts): spec in BENCH_LOAD_SPEC, result on stdout. */
import { runLoadInProcess, type LoadSpec } from './load.js';

const spec = JSON.parse(process.env.BENCH_LOAD_SPEC ?? 'null') as LoadSpec | null;
if (!spec) {
  process.stderr.write('BENCH_LOAD_SPEC is missing\n');
  process.exit(2);
}
runLoadInProcess(spec).then(
  (r) => {
    r.latenciesMs = r.latenciesMs.map((x) => Math.round(x * 1000) / 1000);
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`, () => process.exit(0));
  },
  (err: unknown) => {
    process.stderr.write(`load generator failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
