# Shared by the dev-service scripts (sourced, not run).
# Every dev service keeps its state (pid file, data, log) under ${WHIRL_DEV_STATE:-<checkout>/.tmp}/<service>,
# so that a second set of services (on other ports, e.g. the fault suite's) can run beside the first.

# stop_pid_file FILE [STEPS]: stops the process whose pid FILE holds (TERM, then KILL after STEPS
# quarter-seconds, default 40), and removes FILE. Nothing happens when FILE does not exist, so a
# script only ever stops what it started itself.
stop_pid_file() {
  local file="$1" steps="${2:-40}" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$steps"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$file"
}
