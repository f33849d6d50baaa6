#!/usr/bin/env bash
# Runs every test: `npm test` (unit + integration) or `npm test -- unit` for the unit tier alone.
# Installs the Debian packages the tests need when they are missing, and starts PostgreSQL,
# Redis and Mosquitto on loopback ports of their own (scripts/services.sh), stopping them after.
set -euo pipefail
cd "$(dirname "$0")/.."
tier=${1:-all}

scripts/install-deps.sh
npm run build --silent

run_tests() {
  # node 20's test runner takes no globs: list the files.
  mapfile -t files < <(find "$@" -name '*.test.ts' -not -path '*/node_modules/*' | sort)
  [ ${#files[@]} -eq 0 ] && return 0
  node --conditions=pcapmesh-src --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" \
    --test-timeout=600000 "${files[@]}"
}

run_tests shared/src agent/src collector/src
if [ "$tier" = all ]; then
  run_tests test
fi
