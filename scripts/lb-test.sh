#!/usr/bin/env bash
# Two kitreview instances on one fresh PostgreSQL database behind Debian's nginx,
# configured from deploy/nginx/kitreview.conf. Under load (subscribers on the demo's
# open cycle, writers submitting comments with idempotency keys), one instance is
# killed with SIGKILL; tests/lb/client.py then checks that no acknowledged comment
# was lost or stored twice, that numbers stay gap-free, and that subscribers that
# reconnect through nginx receive every later comment.
#   scripts/lb-test.sh [BIN] [client flags...]
# PostgreSQL comes from TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test,
# a server on which the test may create and drop a database); it must answer.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/target/debug/kitreview}"
shift || true
[[ -x "$BIN" ]] || { echo "no executable kitreview binary at $BIN" >&2; exit 2; }
PG_ADMIN="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
  apt-get update -qq && apt-get install -y -qq nginx
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
if ! python3 -c 'import websockets' 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check -r "$ROOT/tests/lb/requirements.txt" \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages -r "$ROOT/tests/lb/requirements.txt"
fi

command -v psql >/dev/null || { echo "lb-test: psql is needed to create the database" >&2; exit 1; }
if ! psql "$PG_ADMIN" -qAtc 'SELECT 1' >/dev/null; then
  echo "lb-test: PostgreSQL at TEST_POSTGRES_URL does not answer: the test cannot run" >&2
  exit 1
fi

TMP="$(mktemp -d)"
DB="kitreview_lb_$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
DB_URL="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit((p.scheme, p.netloc, "/" + sys.argv[2], p.query, "")))' "$PG_ADMIN" "$DB")"
PIDS=()
NGINX_PID=""
DB_CREATED=""
OK=""

cleanup() {
  set +e
  if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID"   # graceful: finish what is in flight, then exit
    for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null
    wait "$NGINX_PID" 2>/dev/null
  fi
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [[ -z "$OK" ]]; then
    for f in "$TMP"/instance-*.log "$TMP"/nginx/error.log; do
      [[ -s "$f" ]] && { echo "--- last lines of $f" >&2; tail -n 30 "$f" >&2; }
    done
  fi
  [[ -n "$DB_CREATED" ]] && psql "$PG_ADMIN" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_ready() {  # URL PID LOG
  local deadline=$((SECONDS + 120))
  until curl -fsS "$1/readyz" >/dev/null 2>&1; do
    if [[ -n "$2" ]] && ! kill -0 "$2" 2>/dev/null; then
      echo "lb-test: $1 exited before becoming ready" >&2; exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "lb-test: $1/readyz not ready after 120 s" >&2; exit 1
    fi
    sleep 0.2
  done
}

psql "$PG_ADMIN" -qAtc "CREATE DATABASE $DB" >/dev/null
DB_CREATED=1

# Every instance on one database shares the signing secret: a token issued by one
# is accepted by the others. Behind a proxy every request comes from its address,
# so the per-address budgets are off and the client is taken from X-Forwarded-For.
export KITREVIEW_JWT_SECRET
KITREVIEW_JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
start_instance() {  # N [flags...]
  local n="$1" port
  shift
  port="$(free_port)"
  KITREVIEW_LOG=warn "$BIN" serve "$@" --listen "127.0.0.1:$port" --database-url "$DB_URL" \
    --trust-forwarded-for --max-connections-per-address 0 --ws-max-pending-per-address 0 \
    >"$TMP/instance-$n.log" 2>&1 &
  PIDS+=($!)
  disown $!   # one is killed on purpose: no "Killed" job notice from bash
  PORTS+=("$port")
  wait_ready "http://127.0.0.1:$port" "$!"
}
PORTS=()
start_instance 1 --demo   # migrates and loads the demo data
start_instance 2
echo "lb-test: instances pid ${PIDS[0]} on :${PORTS[0]} and pid ${PIDS[1]} on :${PORTS[1]}, database $DB"

# nginx from the sample configuration: its instances, a plain-HTTP listen on a free
# port, no TLS lines; everything it writes stays in $TMP.
NGINX_PORT="$(free_port)"
mkdir -p "$TMP/nginx"/{body,proxy,fastcgi,uwsgi,scgi}
chmod 755 "$TMP" "$TMP/nginx"
chmod 1777 "$TMP/nginx"/{body,proxy,fastcgi,uwsgi,scgi}   # workers may run as nobody
python3 - "$ROOT/deploy/nginx/kitreview.conf" "$NGINX_PORT" "${PORTS[@]}" >"$TMP/nginx/kitreview.conf" <<'PY'
import re, sys
conf, listen, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
out, skipping = [], False
for line in open(conf):
    if "# BEGIN instances" in line:
        skipping = True
        out += [f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;\n" for p in ports]
    elif "# END instances" in line:
        skipping = False
    elif skipping or line.rstrip().endswith("# tls"):
        pass
    elif line.rstrip().endswith("# listen"):
        out.append(re.sub(r"listen .*", f"listen 127.0.0.1:{listen};", line.rstrip()) + "\n")
    else:
        out.append(line)
sys.stdout.write("".join(out))
PY
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log $TMP/nginx/access.log;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    include $TMP/nginx/kitreview.conf;
}
EOF
"$NGINX" -t -q -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf"
"$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" &
NGINX_PID=$!
wait_ready "http://127.0.0.1:$NGINX_PORT" "$NGINX_PID"
echo "lb-test: nginx pid $NGINX_PID on :$NGINX_PORT"

python3 "$ROOT/tests/lb/client.py" "http://127.0.0.1:$NGINX_PORT" --kill-pid "${PIDS[0]}" "$@"

# The surviving instance served the end of the run; nginx saw the dead one fail.
kill -0 "${PIDS[1]}" 2>/dev/null || { echo "lb-test: the surviving instance is gone" >&2; exit 1; }
echo "lb-test: nginx logged $(grep -c 'connect() failed\|upstream prematurely closed\|recv() failed' "$TMP/nginx/error.log" || true) upstream failures"
OK=1
