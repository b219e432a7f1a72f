// One closing line for the whole run ("N passed, N failed, N skipped"), from vitest's JSON reports,
// preceded by the name and first message line of every failed test: CI shows only the tail of a run,
// and a count alone does not say what to look at.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
// `--failed N` adds failures that have no vitest report (the benchmark smoke run).
const args = process.argv.slice(2);
const extra = args.indexOf('--failed');
if (extra >= 0) {
  const n = Number(args[extra + 1] ?? 0);
  failed += n;
  if (n > 0) failures.push('bench smoke: a benchmark failed (see its output above)');
  args.splice(extra, 2);
}
// The first line names the failure; an assertion with a custom message (a process's output) ends with
// what was expected, so the last lines are shown too: a red CI run must say why without its full log.
const gist = (messages) => {
  const lines = String((messages ?? [])[0] ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^\s+at /.test(l));
  const first = (lines[0] ?? '').slice(0, 400);
  const tail = lines.slice(1).slice(-8).map((l) => `      ${l.slice(0, 300)}`);
  return [first, ...tail].join('\n');
};
for (const file of args) {
  if (!existsSync(file)) {
    failed++;
    failures.push(`no test report at ${file}`);
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  for (const t of r.testResults ?? []) {
    const where = relative(process.cwd(), t.name ?? '');
    const failedTests = (t.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failedTests) failures.push(`${where} > ${a.fullName ?? a.title}: ${gist(a.failureMessages)}`);
    // A file that failed to load has no failed test of its own: count those files too.
    if (t.status === 'failed' && failedTests.length === 0) {
      failed++;
      failures.push(`${where}: ${String(t.message ?? 'failed to load').split('\n')[0]}`.slice(0, 400));
    }
  }
}
if (failures.length > 0) console.log(`failed:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
