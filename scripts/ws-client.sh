#!/usr/bin/env bash
# Starts kitreview with the demo data on a temp SQLite database and runs the
# reference graphql-ws client (tests/ws-client) against it: a subscription, a
# refused token, a search.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/serve.sh
source "$ROOT/scripts/lib/serve.sh"
start_kitreview "${1:-$ROOT/target/debug/kitreview}" --demo
npm_deps "$ROOT/tests/ws-client"
node "$ROOT/tests/ws-client/client.mjs" "$BASE/graphql"
