#!/usr/bin/env bash
# Dev service: nginx at the edge of a distributed Whirl on this machine.
#   deploy/dev/nginx.sh start UPSTREAM...  -> renders deploy/nginx/nginx.conf.template with the given
#                                            controller addresses (host:port), a self-signed certificate
#                                            and ports NGINX_HTTP_PORT (18080) / NGINX_HTTPS_PORT (18443),
#                                            installs Debian's nginx first when root and missing
#   deploy/dev/nginx.sh stop               -> stops the nginx this script started (pid file)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
state="${WHIRL_DEV_STATE:-$root/.tmp}/nginx"
http_port="${NGINX_HTTP_PORT:-18080}"
https_port="${NGINX_HTTPS_PORT:-18443}"

start() {
  [ "$#" -gt 0 ] || { echo "usage: $0 start host:port [host:port ...]" >&2; return 2; }
  if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    if [ "$(id -u)" != 0 ]; then echo "nginx is not installed (Debian: apt-get install nginx)" >&2; return 1; fi
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx) \
      >"$root/.tmp/apt-nginx.log" 2>&1 || { echo "installing nginx failed; see .tmp/apt-nginx.log" >&2; return 1; }
    # The package starts a system nginx on port 80; we run our own instance.
    (service nginx stop || true) >/dev/null 2>&1
  fi
  stop
  mkdir -p "$state"
  if [ ! -f "$state/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$state/key.pem" -out "$state/cert.pem" >/dev/null 2>&1
  fi
  upstreams=""
  for u in "$@"; do upstreams="${upstreams}server ${u} max_fails=1 fail_timeout=2s; "; done
  sed -e "s#__STATE__#$state#g" -e "s#__UPSTREAMS__#$upstreams#" -e "s#__HTTP_PORT__#$http_port#g" \
      -e "s#__HTTPS_PORT__#$https_port#g" -e "s#__CERT__#$state/cert.pem#" -e "s#__KEY__#$state/key.pem#" \
      "$root/deploy/nginx/nginx.conf.template" >"$state/nginx.conf"
  nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
  "$nginx_bin" -c "$state/nginx.conf" -p "$state" -g 'daemon on;'
  for _ in $(seq 1 40); do
    if curl -fsk -m 2 "https://127.0.0.1:$https_port/ping" >/dev/null 2>&1 || [ -f "$state/nginx.pid" ]; then echo started; return 0; fi
    sleep 0.25
  done
  echo "nginx did not start; see $state/error.log" >&2
  return 1
}

stop() {
  [ -f "$state/nginx.pid" ] || return 0
  pid="$(cat "$state/nginx.pid")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$state/nginx.pid"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start host:port...|stop" >&2; exit 2 ;;
esac
