#!/usr/bin/env bash
# `pnpm test`: every test tier. Starts the services the tests need when they are missing (as root it
# installs and starts dockerd), builds the offline runtime images, runs typecheck, lint, unit and
# end-to-end tests, and stops whatever it started.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp

started_docker=""
cleanup() {
  if [ -n "$started_docker" ]; then deploy/dev/dockerd.sh stop || true; fi
}
trap cleanup EXIT

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
echo "== unit" && pnpm exec vitest run --project unit
echo "== e2e" && pnpm exec vitest run --project e2e --no-file-parallelism
