#!/usr/bin/env bash
# `pnpm test`: every test tier. Starts the services the tests need when they are missing (as root it
# installs Debian's docker.io, tmux and chromium, and starts dockerd; the distributed tests start Kafka, the
# CouchDB-API server and nginx themselves), builds the offline runtime images, runs typecheck, lint,
# unit and end-to-end tests and a smoke run of every benchmark, stops whatever it started, and ends
# with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp

started_docker=""
cleanup() {
  if [ -n "$started_docker" ]; then deploy/dev/dockerd.sh stop || true; fi
}
trap cleanup EXIT

if [ "$(id -u)" = 0 ] && ! command -v tmux >/dev/null 2>&1; then
  echo "installing tmux (terminal tests) ..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux) >.tmp/apt-tmux.log 2>&1 || echo "tmux could not be installed; terminal tests will be skipped" >&2
fi

# The console's browser tests drive Debian's chromium through playwright-core (no browser download).
if [ "$(id -u)" = 0 ] && [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (console tests) ..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >.tmp/apt-chromium.log 2>&1 || echo "chromium could not be installed; console tests will be skipped" >&2
fi

if out="$(deploy/dev/dockerd.sh start)"; then
  [ "$out" = started ] && started_docker=1
  echo "docker: $out"
  pnpm run build:images
else
  if [ -n "${CI:-}" ] || [ "$(id -u)" = 0 ]; then echo "Docker is required for the test suite" >&2; exit 1; fi
  echo "docker: not available; Docker tests will be skipped" >&2
fi

echo "== typecheck" && pnpm run typecheck
echo "== lint" && pnpm run lint
status=0
echo "== unit" && pnpm exec vitest run --project unit --reporter=default --reporter=json --outputFile=.tmp/results-unit.json || status=$?
echo "== e2e" && pnpm exec vitest run --project e2e --no-file-parallelism --reporter=default --reporter=json --outputFile=.tmp/results-e2e.json || status=$?
# Faults and clean stops on their own dev-service ports (tests/faults/env.ts), bounded to 8 minutes.
echo "== faults" && timeout 480 pnpm exec vitest run --project faults --no-file-parallelism --reporter=default --reporter=json --outputFile=.tmp/results-faults.json || status=$?
# Every benchmark once with one-second phases, so that none of them rots (figures are not judged here).
echo "== bench smoke"
bench_failed=0
if BENCH_SECONDS=1 BENCH_ACTIVATION_RECORDS=5000 pnpm bench >.tmp/bench-smoke.jsonl; then
  echo "bench smoke: $(wc -l <.tmp/bench-smoke.jsonl) figures, see .tmp/bench-smoke.jsonl"
else
  echo "bench smoke FAILED (see above)" >&2
  status=1
  bench_failed=1
fi
node scripts/summary.mjs .tmp/results-unit.json .tmp/results-e2e.json .tmp/results-faults.json --failed "$bench_failed"
exit "$status"
