#!/usr/bin/env bash
# Dev service: a Docker daemon for tests and standalone on machines that have none running.
#   deploy/dev/dockerd.sh start   -> starts dockerd (installing Debian's docker.io first when root and
#                                    missing) unless a daemon already answers; prints "started" or "running"
#   deploy/dev/dockerd.sh stop    -> stops the dockerd this script started (by its pid file), nothing else
# The data root lives under the project's .tmp/ so that nothing outside the checkout is touched.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=lib.sh
. "$root/deploy/dev/lib.sh"
state="$root/.tmp/docker"
pidfile="$state/dockerd.pid"

answers() { timeout 5 docker version >/dev/null 2>&1; }

start() {
  if answers; then echo running; return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then echo "no Docker daemon and not root: install docker.io (Debian) or start a daemon" >&2; return 1; fi
    echo "installing Debian's docker.io ..." >&2
    mkdir -p "$root/.tmp"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io) >"$root/.tmp/apt-docker.log" 2>&1 \
      || { echo "apt-get install docker.io failed; see .tmp/apt-docker.log" >&2; return 1; }
  fi
  if [ "$(id -u)" != 0 ]; then echo "dockerd needs root" >&2; return 1; fi
  mkdir -p "$state"
  # A stale socket from a killed daemon would make dockerd refuse to start.
  if [ -S /var/run/docker.sock ] && ! answers; then rm -f /var/run/docker.sock; fi
  nohup dockerd --data-root "$state/root" --exec-root "$state/exec" --pidfile "$pidfile" \
    -H unix:///var/run/docker.sock --storage-driver overlay2 >"$state/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    if answers; then echo started; return 0; fi
    sleep 0.5
  done
  echo "dockerd did not come up; see $state/dockerd.log" >&2
  return 1
}

stop() {
  [ -f "$pidfile" ] || return 0
  # Remove what tests may have left behind before the daemon goes.
  ids="$(docker ps -aq --filter label=whirl.invoker 2>/dev/null || true)"
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  stop_pid_file "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
