#!/usr/bin/env bash
# Runs every test: `npm test` (unit + integration + packaging), `npm test -- unit`, `npm test -- integration` or
# `npm test -- packaging` for one tier.
#
# 1. installs the Debian packages the tests need when they are missing (scripts/install-deps.sh),
# 2. builds the workspaces (a type error fails here, before any test runs),
# 3. starts PostgreSQL, Redis, Mosquitto and slapd on loopback ports of their own (scripts/services.sh) and exports
#    PCAPMESH_TEST_DATABASE_URL, PCAPMESH_TEST_REDIS_URL, PCAPMESH_TEST_MQTT_URL, … for the tests,
# 4. type-checks and lints everything, runs the unit tests (every *.test.ts under shared/src, agent/src,
#    collector/src, test/docs, test/lint) and the dashboard's component tests, then the integration
#    tests (test/integration/*.test.ts: real collector and agent processes over real sockets), the
#    end-to-end tests (test/e2e) and the fault suite's CI forms (test/faults: fuzz, damaged captures,
#    database outage, attacks; long forms in bench/faults.ts), and last, alone, the packaging test
#    (test/packaging: both .debs built, installed, run, upgraded and purged in a Debian 12 booted with
#    systemd-nspawn; needs root; its debootstrap root is cached in /var/cache/pcapmesh-test),
# 5. stops the services it started, whatever happened (trap).
#
# With CI=true a test that lacks a service or a binary fails instead of skipping.
# Env: TEST_CONCURRENCY (unit files in parallel, default 2), INTEGRATION_CONCURRENCY (default 2),
# SKIP_BUILD=1 to reuse an existing build. Child process logs of failed integration tests are kept under
# test-artifacts/integration/.
set -euo pipefail
cd "$(dirname "$0")/.."
tier=${1:-all}
case "$tier" in all | unit | integration | packaging) ;; *) echo "usage: $0 [all|unit|integration|packaging]" >&2; exit 2 ;; esac

scripts/install-deps.sh
[ "${SKIP_BUILD:-}" = 1 ] || npm run build --silent

# Leave services alone that were running before us (a developer's session); stop the ones we start.
if scripts/services.sh status >/dev/null 2>&1; then
  started_services=0
else
  started_services=1
fi
stop_services() { [ "$started_services" = 1 ] && scripts/services.sh stop || true; }
trap stop_services EXIT
scripts/services.sh start
eval "$(scripts/services.sh env)"

# Integration tests with a wall-clock acceptance deadline (standalone: up within 30 s) run first, alone.
alone=(test/integration/standalone.test.ts)

run_tests() {
  local concurrency=$1; shift
  # node 20's test runner takes no globs: list the files.
  local files
  mapfile -t files < <(find "$@" -name '*.test.ts' -not -path '*/node_modules/*' -not -path 'test/lint/fixtures/*' 2>/dev/null | sort)
  [ -n "${EXCLUDE:-}" ] && mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -vxF -f <(printf '%s\n' $EXCLUDE))
  [ ${#files[@]} -eq 0 ] && return 0
  node --conditions=pcapmesh-src --import tsx --test --test-reporter=spec --test-concurrency="$concurrency" \
    --test-timeout=900000 "${files[@]}"
}

status=0
started=$SECONDS
if [ "$tier" = all ] || [ "$tier" = unit ]; then
  echo "== static checks"
  npm run typecheck --silent || status=1
  npm run lint --silent || status=1
  echo "== unit tests"
  run_tests "${TEST_CONCURRENCY:-2}" shared/src agent/src collector/src test/docs test/lint || status=1
  npm test -w web --silent || status=1 # dashboard component tests (vitest + happy-dom)
fi
if [ "$tier" = all ] || [ "$tier" = integration ]; then
  echo "== integration tests"
  run_tests 1 "${alone[@]}" || status=1
  EXCLUDE="${alone[*]}" run_tests "${INTEGRATION_CONCURRENCY:-2}" test/integration test/e2e test/faults || status=1
fi
if [ "$tier" = all ] || [ "$tier" = packaging ]; then
  echo "== packaging test"
  run_tests 1 test/packaging || status=1
fi
echo "== tests finished in $((SECONDS - started)) s: $([ $status -eq 0 ] && echo passed || echo FAILED)"
exit $status
