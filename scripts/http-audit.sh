#!/usr/bin/env bash
# Starts kitreview on a temp SQLite database and runs the GraphQL-over-HTTP conformance audit (tests/http-audit) against it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/target/debug/kitreview}"
AUDIT_DIR="$ROOT/tests/http-audit"
[[ -x "$BIN" ]] || { echo "http-audit: no executable kitreview binary at $BIN" >&2; exit 2; }

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

KITREVIEW_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" --database-url "sqlite:$TMP/audit.db" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + 30))
until curl -fsS "$BASE/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "http-audit: kitreview exited before becoming ready; its log:" >&2
    cat "$TMP/server.log" >&2
    exit 2
  fi
  if ((SECONDS >= deadline)); then
    echo "http-audit: kitreview not ready at $BASE/readyz after 30 s; its log:" >&2
    cat "$TMP/server.log" >&2
    exit 2
  fi
  sleep 0.2
done

if [[ ! -d "$AUDIT_DIR/node_modules" ]]; then
  (cd "$AUDIT_DIR" && npm ci --no-audit --no-fund)
fi

node "$AUDIT_DIR/audit.mjs" "$BASE/graphql"
