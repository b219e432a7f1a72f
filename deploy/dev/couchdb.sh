#!/usr/bin/env bash
# Dev service: a CouchDB-API server (pouchdb-server from npm, a root devDependency) for the distributed
# tests, on machines where the CouchDB image cannot be pulled. docker-compose runs real CouchDB 3.
#   deploy/dev/couchdb.sh start  -> starts pouchdb-server unless something already answers on the port;
#                                   prints "started" or "running"
#   deploy/dev/couchdb.sh stop   -> stops the server this script started (by its pid file), nothing else
# Bound to 127.0.0.1 only; on-disk (LevelDB) data, config and log live under the project's .tmp/couchdb.
# Env: COUCHDB_PORT (15984), COUCHDB_USER (whirl), COUCHDB_PASSWORD (whirl). With an admin configured
# the server leaves "admin party" mode, so clients must use http://USER:PASSWORD@127.0.0.1:PORT.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=lib.sh
. "$root/deploy/dev/lib.sh"
port="${COUCHDB_PORT:-15984}"
user="${COUCHDB_USER:-whirl}"
password="${COUCHDB_PASSWORD:-whirl}"
state="${WHIRL_DEV_STATE:-$root/.tmp}/couchdb"
pidfile="$state/pouchdb-server.pid"
log="$state/pouchdb-server.log"
bin="$root/node_modules/.bin/pouchdb-server"

answers() { curl -fsS -m 2 "http://127.0.0.1:$port/" 2>/dev/null | grep -q 'Welcome'; }

start() {
  if answers; then echo running; return 0; fi
  [ -x "$bin" ] || { echo "pouchdb-server is not installed: run pnpm install at $root" >&2; return 1; }
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "a pouchdb-server started earlier (pid $(cat "$pidfile")) is alive but not answering on 127.0.0.1:$port; see $log" >&2
    return 1
  fi
  mkdir -p "$state/data"
  # Written on every start so a changed port or password takes effect; pouchdb-server replaces the
  # plain-text admin password with its hash the first time it reads this file.
  cat >"$state/config.json" <<JSON
{
  "httpd": { "port": $port, "bind_address": "127.0.0.1" },
  "couchdb": { "database_dir": "$state/data/" },
  "log": { "file": "$state/pouchdb-server.requests.log", "level": "warning" },
  "admins": { "$user": "$password" }
}
JSON
  # Run from the state dir: pouchdb-server drops helper databases (_users, _replicator) in its cwd.
  (cd "$state" && exec nohup "$bin" --host 127.0.0.1 --port "$port" --dir "$state/data/" \
    --config "$state/config.json" --no-color >"$log" 2>&1) &
  echo $! >"$pidfile"
  local pid; pid="$(cat "$pidfile")"
  for _ in $(seq 1 120); do
    if answers; then echo started; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "pouchdb-server exited during start; see $log" >&2
      rm -f "$pidfile"
      return 1
    fi
    sleep 0.25
  done
  echo "pouchdb-server did not answer on 127.0.0.1:$port within 30 s; see $log" >&2
  return 1
}

stop() { stop_pid_file "$pidfile"; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
