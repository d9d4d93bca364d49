#!/usr/bin/env bash
# The workspace's browser tests (tests/browser): Playwright from PyPI driving
# Debian's chromium, pytest, axe-core from npm. Every test runs on SQLite and on
# PostgreSQL (TEST_POSTGRES_URL; with CI set, a missing or unreachable server
# fails the run).
#   scripts/browser-tests.sh [BIN] [pytest args...]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/target/debug/kitreview}"
shift || true
[[ -x "$BIN" ]] || { echo "no executable kitreview binary at $BIN" >&2; exit 2; }
export KITREVIEW_BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || { echo "no chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)" >&2; exit 2; }
python3 -c 'import playwright, pytest' 2>/dev/null || { echo "pip install -r tests/browser/requirements.txt" >&2; exit 2; }
[[ -f "$ROOT/tests/browser/node_modules/axe-core/axe.min.js" ]] || (cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund)

cd "$ROOT/tests/browser"
exec python3 -m pytest -p no:cacheprovider -s -ra "$@" .
