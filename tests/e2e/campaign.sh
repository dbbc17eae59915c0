#!/usr/bin/env bash
# rigctl campaign end to end: a simulated population through rigsim (K jigs) and one rigd (K
# nests), judged against rigsim's truth file. Usage: campaign.sh BIN_DIR SRC_DIR SCENARIO
#   fpv | interceptor | canesc   a random defect mix, several nests: every defect caught by its
#                                intended step, every good unit passed; JUnit XML written
#   shared_rf                    4 nests sharing one RF meter through its switch
#   escape                       a defect the plan cannot catch: exit 1 naming the escape
#   sigint                       SIGINT mid-campaign: children stopped, partial results, exit 130
set -uo pipefail
bin=$1 src=$2 scenario=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/rig-campaign-$scenario.XXXXXX")
fail() { echo "FAIL [$scenario]: $*"; cat "$work/out" 2>/dev/null; exit 1; }
campaign() { "$bin/rigctl" campaign --variants "$src/fixtures/variants" --run-dir "$work/run" "$@" >"$work/out" 2>&1; rc=$?; }
junit_ok() {  # FILE UNITS: one testcase per unit plus the safety case, no failures
  grep -q "<testsuite name=\"[a-z-]*\" tests=\"$(($2 + 1))\" failures=\"0\"" "$1" || fail "JUnit $1: $(head -n 2 "$1" | tail -n 1)"
  [[ $(grep -c '<testcase ' "$1") -eq $(($2 + 1)) ]] || fail "JUnit $1 lacks test cases"
}
mix() {  # POPULATION UNITS NESTS
  campaign "$src/fixtures/populations/$1" --units "$2" --nests "$3" --seed 7 --junit "$work/junit.xml" --json "$work/result.json"
  [[ $rc -eq 0 ]] || fail "campaign exit $rc"
  grep -qE "^defective units caught by their intended step: ([0-9]+) of \1$" "$work/out" || fail "not every defect caught by its step"
  grep -qE "^good units passed: ([0-9]+) of \1$" "$work/out" || fail "a good unit did not pass"
  grep -q '^(good) ' "$work/out" || fail "no good units in the matrix"
  grep -q '"safety_violations":0' "$work/result.json" || fail "JSON: $(cat "$work/result.json")"
  # Where the time went: every nest's unit_timing lines, summed up in the report and the JSON.
  grep -qE '^controller overhead, % of physical time \(lid closed to verdict\) min / median / max: [0-9.]+ / [0-9.]+ / [0-9.]+ %$' "$work/out" ||
    fail "no controller overhead line"
  grep -qE '^dwell end after plan \(each unit.s latest\) p50 / p99 / max: [0-9.]+ / [0-9.]+ / [0-9.]+ ms$' "$work/out" || fail "no dwell lateness line"
  # Every dwell counted once: the all-dwells line sums the units' dwells= fields.
  dwells=$(grep -o ' dwells=[0-9]*' "$work/run/rigd.err" | awk -F= '{ n += $2 } END { print n + 0 }')
  grep -qE "^dwell end after plan \(all $dwells dwells\) p50 (<=|>) [0-9.]+ ms, p99 (<=|>) [0-9.]+ ms; within 2 ms: [0-9.]+ %$" "$work/out" ||
    fail "no all-dwells lateness line for $dwells dwells: $(grep 'all .* dwells' "$work/out")"
  grep -qE "\"dwells\":\{\"count\":$dwells,\"p50_ms_at_most\":([0-9.]+|null),\"p99_ms_at_most\":([0-9.]+|null),\"within_2ms_pct\":[0-9.]+\}" \
    "$work/result.json" || fail "JSON lacks the dwell histogram summary"
  # rigd's io-thread stalls are counted from its event=io_stall lines, in the text and the JSON.
  stalls=$(grep -c ' event=io_stall ' "$work/run/rigd.err" || true)
  grep -qE "^rigd io-thread stalls over 100 ms: $stalls( \(longest [0-9]+ ms; the host stole [0-9]+ ms of CPU during them\))?$" "$work/out" ||
    fail "no io-stall line for $stalls stalls"
  grep -qE "\"io_stalls\":\{\"count\":$stalls,\"max_ms\":[0-9]+,\"host_steal_ms\":-?[0-9]+\}" "$work/result.json" || fail "JSON lacks io_stalls"
  grep -qE '"overhead_pct":\{"min":[0-9.]+,"median":[0-9.]+,"max":[0-9.]+\}' "$work/result.json" || fail "JSON lacks overhead_pct"
  [[ $(grep -c ' event=unit_timing ' "$work/run/rigd.err") -eq $(grep -cE ' (PASS|FAIL|ERROR) ' "$work/run/rigd.out") ]] ||
    fail "not one unit_timing line per certified unit"
  junit_ok "$work/junit.xml" "$2"
  # The run directory is private; the certificates in it verify.
  "$bin/rigctl" --data "$work/run/data" verify --archive "$work/run/data/archive.sqlite" >"$work/verify" 2>&1 ||
    fail "the campaign's archive does not verify: $(tail -n 3 "$work/verify")"
  mkdir -p "${RIG_JUNIT_DIR:-$bin/../junit}" && cp "$work/junit.xml" "${RIG_JUNIT_DIR:-$bin/../junit}/campaign-$scenario.xml"
}
case $scenario in
fpv) mix fpv-mix.toml 200 8 ;;
interceptor) mix interceptor-mix.toml 160 8 ;;
canesc) mix canesc-mix.toml 160 8 ;;
shared_rf)
  # One RF meter behind a switch for 4 nests: every weak VTX caught in whichever nest it was,
  # the meter switched between the nests' paths, and nests waited their turn for it.
  mix fpv-shared-rf.toml 40 4
  switched=$(sed -n 's/^rigsim: shared RF meter switched path \([0-9]*\) times$/\1/p' "$work/run/rigsim.out")
  [[ ${switched:-0} -ge 4 ]] || fail "the shared meter's switch moved ${switched:-0} times: $(tail -n 2 "$work/run/rigsim.out")"
  [[ $(grep -c 'event=instrument_ready name=rf' "$work/run/rigd.err") -eq 4 ]] || fail "not every nest has the shared meter"
  grep -q 'event=instrument_wait name=rf ' "$work/run/rigd.err" || echo "note: no nest had to wait for the meter in this run"
  ;;
escape)
  printf 'lot = "L"\nvariant = "fpv5-bf"\nbench = true\n[[unit]]\nserial = "FPV5-000001"\n[[unit]]\nserial = "FPV5-000002"\ndefects = ["slow_failsafe"]\n' \
    >"$work/escape.toml"
  campaign "$work/escape.toml" --nests 2 --junit "$work/junit.xml"
  [[ $rc -eq 1 ]] || fail "a campaign with an escape: exit $rc, want 1"
  grep -qE '^  FPV5-000002 \(slow_failsafe\): ESCAPE: passed every step of the plan \(expected to be caught by radio\.failsafe\)$' "$work/out" ||
    fail "the escape is not named"
  grep -q '<failure message="FPV5-000002 (slow_failsafe): ESCAPE' "$work/junit.xml" || fail "JUnit lacks the escape"
  ;;
sigint)
  "$bin/rigctl" campaign "$src/fixtures/populations/fpv-mix.toml" --units 40 --nests 4 --variants "$src/fixtures/variants" \
    --run-dir "$work/run" >"$work/out" 2>&1 &
  pid=$!
  for _ in $(seq 300); do grep -q 'unit ' "$work/run/rigd.out" 2>/dev/null && break; sleep 0.1; done
  grep -q 'unit ' "$work/run/rigd.out" || fail "no unit finished"
  kill -INT $pid
  wait $pid
  rc=$?
  [[ $rc -eq 130 ]] || fail "interrupted campaign: exit $rc, want 130"
  grep -q 'INTERRUPTED: partial' "$work/out" || fail "no partial results"
  grep -q '^campaign: interrupted; children stopped' "$work/out" || fail "no word on the children"
  sleep 0.2
  if pgrep -f "$work/run" >/dev/null; then fail "stray processes: $(pgrep -af "$work/run")"; fi
  grep -q 'rigd: SIGTERM received, making every nest safe' "$work/run/rigd.err" || fail "rigd was not stopped with SIGTERM"
  grep -q 'safety violations 0' "$work/run/rigsim.out" || fail "rigsim: $(tail -n 1 "$work/run/rigsim.out")"
  ;;
stall)
  # A nest whose jig is gone for good waits for it; the campaign sees no verdict for its stall
  # timeout, stops both children (rigd with SIGTERM) and fails, naming the stall.
  printf 'lot = "L"\nvariant = "fpv5-bf"\nbench = true\n[[unit]]\nserial = "FPV5-000001"\ndefects = ["jig_gone_at_motors"]\n[[unit]]\nserial = "FPV5-000002"\n' \
    >"$work/stall.toml"
  campaign "$work/stall.toml" --nests 1 --stall-timeout 4 --json "$work/stall.json"
  [[ $rc -eq 1 ]] || fail "a stalled campaign: exit $rc, want 1"
  grep -qE '^== detection matrix \(1 units on 1 nests, STALLED: partial\) ==$' "$work/out" || fail "the matrix is not marked stalled"
  grep -qE "^campaign: STALLED: no verdict from rigd for 4 s; children stopped; logs in $work/run$" "$work/out" || fail "the stall is not named"
  grep -q '"partial":true' "$work/stall.json" || fail "JSON not partial"
  grep -q 'rigd: SIGTERM received' "$work/run/rigd.err" || fail "rigd was not stopped with SIGTERM"
  grep -q 'JIG LOST: ' "$work/run/rigd.out" || fail "rigd did not say its jig was lost"
  if pgrep -f "$work/run" >/dev/null; then fail "stray processes: $(pgrep -af "$work/run")"; fi
  ;;
*) fail "unknown scenario" ;;
esac
rm -rf "$work"
echo "PASS [$scenario]"
