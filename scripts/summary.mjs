// One closing line for the whole run ("N passed, N failed, N skipped"), from vitest's JSON reports.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
// `--failed N` adds failures that have no vitest report (the benchmark smoke run).
const args = process.argv.slice(2);
const extra = args.indexOf('--failed');
if (extra >= 0) {
  failed += Number(args[extra + 1] ?? 0);
  args.splice(extra, 2);
}
for (const file of args) {
  if (!existsSync(file)) {
    failed++;
    console.error(`no test report at ${file}`);
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  // A file that failed to load has no failed test of its own: count those files too.
  const brokenFiles = (r.testResults ?? []).filter((t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed += (r.numFailedTests ?? 0) + brokenFiles;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
