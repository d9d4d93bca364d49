#!/usr/bin/env bash
# Starts kitreview on a temp SQLite database and runs the GraphQL-over-HTTP conformance audit (tests/http-audit) against it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/serve.sh
source "$ROOT/scripts/lib/serve.sh"
BIN="${1:-$ROOT/target/debug/kitreview}"
start_kitreview "$BIN" --demo
# Signed in as the demo's Kenyan delegate: introspection is for signed-in users.
TOKEN="$("$BIN" token --email delegate.kenya@itu.example --database-url "sqlite:$TMP/kitreview.db")"
npm_deps "$ROOT/tests/http-audit"
node "$ROOT/tests/http-audit/audit.mjs" "$BASE/graphql" "$TOKEN"
