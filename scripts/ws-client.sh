#!/usr/bin/env bash
# Starts kitreview with the demo data on a temp SQLite database and runs the
# reference graphql-ws client (tests/ws-client) against it: a subscription, a
# refused token, a search.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/target/debug/kitreview}"
CLIENT_DIR="$ROOT/tests/ws-client"
[[ -x "$BIN" ]] || { echo "ws-client: no executable kitreview binary at $BIN" >&2; exit 2; }

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

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"

KITREVIEW_LOG=warn "$BIN" serve --demo --listen "127.0.0.1:$PORT" --database-url "sqlite:$TMP/ws.db" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + 60))
until curl -fsS "$BASE/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "ws-client: kitreview exited before becoming ready; its log:" >&2
    cat "$TMP/server.log" >&2
    exit 2
  fi
  if ((SECONDS >= deadline)); then
    echo "ws-client: kitreview not ready at $BASE/readyz after 60 s; its log:" >&2
    cat "$TMP/server.log" >&2
    exit 2
  fi
  sleep 0.2
done

if [[ ! -d "$CLIENT_DIR/node_modules" ]]; then
  (cd "$CLIENT_DIR" && npm ci --no-audit --no-fund)
fi

node "$CLIENT_DIR/client.mjs" "$BASE/graphql"
