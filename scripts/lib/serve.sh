# Sourced by the CI scripts: start kitreview on a temporary SQLite database and
# wait until it is ready. Sets TMP, PORT, BASE and SERVER_PID, and stops the
# server (and removes TMP) on exit.
#   start_kitreview BIN [extra serve flags...]

TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

start_kitreview() {
  local bin="$1"
  shift
  [[ -x "$bin" ]] || { echo "no executable kitreview binary at $bin" >&2; exit 2; }
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  BASE="http://127.0.0.1:$PORT"
  KITREVIEW_LOG=warn "$bin" serve "$@" --listen "127.0.0.1:$PORT" --database-url "sqlite:$TMP/kitreview.db" >"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + 60))
  until curl -fsS "$BASE/readyz" >/dev/null 2>&1; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "kitreview exited before becoming ready; its log:" >&2
      cat "$TMP/server.log" >&2
      exit 2
    fi
    if ((SECONDS >= deadline)); then
      echo "kitreview not ready at $BASE/readyz after 60 s; its log:" >&2
      cat "$TMP/server.log" >&2
      exit 2
    fi
    sleep 0.2
  done
}

# Install a Node.js project's locked dependencies once.
npm_deps() {
  if [[ ! -d "$1/node_modules" ]]; then
    (cd "$1" && npm ci --no-audit --no-fund)
  fi
}
