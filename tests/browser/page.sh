#!/usr/bin/env bash
# The operator page in headless Chromium (page.mjs, playwright-core) against a real rigd and
# rigsim. Screenshots go to $RIG_ARTIFACTS/browser (default: the build folder's artifacts).
# Usage: page.sh BIN_DIR SOURCE_DIR SCENARIO
set -uo pipefail
bin=$1 src=$2 scenario=$3
# shellcheck source=tests/e2e/lib.sh
source "$src/tests/e2e/lib.sh"
shots="${RIG_ARTIFACTS:-$bin/../artifacts}/browser"
[[ -f "$src/tests/browser/node_modules/playwright-core/package.json" ]] || fail "playwright-core is not installed: run scripts/setup"

browse() {  # browse: page.mjs's scenario of the same name
  RIG_URL=$url SHOTS=$shots OP=${op:-} ENG=${eng:-} ADMIN=${admin:-} node "$src/tests/browser/page.mjs" "$scenario" >"$work/browser.out" 2>&1
  local rc=$?
  cat "$work/browser.out"
  [[ $rc -eq 0 ]] || fail "the browser test failed"
}
stop_rigd() {  # stop_rigd WANT_EXIT
  kill -TERM "$rigd_pid"; wait "$rigd_pid"; local rc=$?; rigd_pid=""
  [[ $rc -eq $1 ]] || fail "rigd exit $rc, want $1"
}

mkdir -p "$work/data"
case "$scenario" in
pass)
  population FPV5-000601
  SIM_ARGS="--unload-after 8" start_sim
  page_jig
  op=$(token bench1 operator --nest sim-line1)
  eng=$(token eng engineer)
  api_start
  browse
  stop_rigd 0
  expect_err 'station=sim-line1 event=api_request request=scan by="bench1" result="ok"'
  [[ -n "$(certs_of FPV5-000601)" ]] || fail "no certificate for FPV5-000601"
  verify_all
  stop_sim
  ;;
fail_languages)
  population FPV5-000602=weak_motor:3
  SIM_ARGS="--unload-after 120" start_sim
  eng=$(token eng engineer)
  api_start
  browse
  stop_rigd 0  # a FAIL is a verdict, not a failure of rigd
  stop_sim
  ;;
abort)
  population FPV5-000603
  SIM_ARGS="--unload-after 30" start_sim
  op=$(token bench1 operator --nest sim-line1)
  api_start
  browse
  power_off_after_motors FPV5-000603
  [[ -z "$(certs_of FPV5-000603)" ]] || fail "an aborted unit got a certificate"
  expect_out '^unit FPV5-000603 +ABORTED \(aborted by bench1 \(operator\)\)'
  stop_rigd 3
  stop_sim
  ;;
two_nests)
  population FPV5-000604 FPV5-000605=weak_motor:3
  SIM_ARGS="--jigs 2 --unload-after 60" start_sim
  jigs=("$work/sim/nest-01/jig.toml" "$work/sim/nest-02/jig.toml")
  eng=$(token eng engineer)
  api_start
  browse
  stop_rigd 0  # a FAIL is a verdict, not a failure of rigd
  verify_all
  stop_sim
  ;;
token)
  population FPV5-000606
  SIM_ARGS="--unload-after 30" start_sim
  page_jig  # the unit waits for its scan: nothing is under test when rigd stops
  op=$(token bench1 operator --nest sim-line1)
  admin=$(token boss admin)
  api_start
  browse
  stop_rigd 0
  stop_sim
  ;;
certificate)
  # Three units of one lot, one with a weak motor 3, through the jig's reader and lid; then the
  # failing unit's certificate from the API and the lot's statistics from rigctl.
  population FPV5-000607 FPV5-000608=weak_motor:3 FPV5-000609
  start_sim
  qa=$(token qa qa)
  api_start
  for _ in $(seq 1200); do [[ $(ls "$work/data/certificates" 2>/dev/null | wc -l) -ge 3 ]] && break; sleep 0.1; done
  [[ $(ls "$work/data/certificates" | wc -l) -eq 3 ]] || fail "three certificates were not made"
  "$bin/rigctl" --data "$work/data" show FPV5-000608 --json >"$work/cert.json" || fail "rigctl show --json failed"
  "$bin/rigctl" --data "$work/data" stats --html "$work/stats.html" >/dev/null || fail "rigctl stats --html failed"
  QA=$qa CERT_JSON=$work/cert.json STATS=$work/stats.html browse
  stop_rigd 0
  verify_all
  stop_sim
  ;;
*)
  fail "unknown scenario"
  ;;
esac
echo "PASS [browser $scenario]"
