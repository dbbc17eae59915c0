# Helpers shared by the end-to-end scripts (sourced): bin, src and scenario are set by the caller.
work=$(mktemp -d "${TMPDIR:-/tmp}/rig-e2e-$scenario.XXXXXX")
sim_pid="" rigd_pid=""
cleanup() {
  [[ -n "$rigd_pid" ]] && kill -KILL "$rigd_pid" 2>/dev/null
  [[ -n "$sim_pid" ]] && kill -KILL "$sim_pid" 2>/dev/null
  [[ -z "${KEEP:-}" ]] && rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL [$scenario]: $*"
  for f in rigd.out rigd.err sim.out events.log; do [[ -f "$work/$f" ]] && { echo "--- $f"; tail -n 30 "$work/$f"; }; done
  exit 1
}
expect_out() { grep -qE -- "$1" "$work/rigd.out" || fail "rigd stdout lacks /$1/"; }
expect_err() { grep -qE -- "$1" "$work/rigd.err" || fail "rigd stderr lacks /$1/"; }
expect_event() { grep -qE -- "$1" "$work/events.log" || fail "sim events lack /$1/"; }

population() {  # population UNIT_SPEC...   each spec: SERIAL[=defect,defect]
  {
    echo 'lot = "LOT-E2E"'
    if [[ -n "${CAN:-}" ]]; then  # ArduPilot over MAVLink with DroneCAN ESCs behind the jig's SLCAN adapter
      printf 'variant = "canesc-ap"\nfc = "ardupilot"\ncan = true\n'
    elif [[ -n "${INTERCEPTOR:-}" ]]; then  # ArduPilot over MAVLink with an ELRS reference transmitter
      printf 'variant = "interceptor-ap"\nfc = "ardupilot"\nradio = true\n'
      [[ -n "${FC_LINK:-}" ]] && printf 'fc_link = "%s"\n' "$FC_LINK"
    else  # Betaflight over MSP, with the bench supply and RF power meter of power.supply and vtx.power
      printf 'variant = "fpv5-bf"\nbench = true\n'
      [[ -n "${INSTRUMENT_LINK:-}" ]] && printf 'instrument_link = "%s"\n' "$INSTRUMENT_LINK"
    fi
    for spec in "$@"; do
      echo '[[unit]]'
      echo "serial = \"${spec%%=*}\""
      if [[ "$spec" == *=* ]]; then
        local d=${spec#*=}
        echo "defects = [\"${d//,/\",\"}\"]"
      fi
    done
  } >"$work/population.toml"
}

start_sim() {
  "$bin/rigsim" --population "$work/population.toml" --dir "$work/sim" --events "$work/events.log" ${SIM_ARGS:-} >"$work/sim.out" 2>&1 &
  sim_pid=$!
  for _ in $(seq 200); do grep -q '^rigsim: ready' "$work/sim.out" 2>/dev/null && return 0; sleep 0.05; done
  fail "rigsim did not start"
}

stop_sim() {  # the simulator exits non-zero when it saw a safety violation
  kill -TERM "$sim_pid"
  wait "$sim_pid"
  local rc=$?
  sim_pid=""
  [[ $rc -eq 0 ]] || fail "rigsim exit $rc (safety violations?): $(tail -n 1 "$work/sim.out")"
  grep -q 'safety violations 0' "$work/sim.out" || fail "rigsim counted safety violations"
}

rigd() {  # rigd ARGS... ; sets rc
  # shellcheck disable=SC2086  # rigd_wrap: a command rigd runs under (setpriv), word-split
  ${rigd_wrap:-} "$bin/rigd" --jig "$work/sim/jig.toml" --variants "$src/fixtures/variants" --data "$work/data" "$@" >"$work/rigd.out" 2>"$work/rigd.err"
  rc=$?
}

rigd_bg() {
  # shellcheck disable=SC2086  # rigd_wrap: a command rigd runs under (setpriv), word-split
  ${rigd_wrap:-} "$bin/rigd" --jig "$work/sim/jig.toml" --variants "$src/fixtures/variants" --data "$work/data" "$@" >"$work/rigd.out" 2>"$work/rigd.err" &
  rigd_pid=$!
}

wait_event() {  # wait_event REGEX TIMEOUT_S
  for _ in $(seq $(( $2 * 20 ))); do grep -qE -- "$1" "$work/events.log" 2>/dev/null && return 0; sleep 0.05; done
  fail "timed out waiting for sim event /$1/"
}

certs_of() { ls "$work/data/certificates/"*"$1"* 2>/dev/null; }

verify_all() {
  "$bin/rigctl" --data "$work/data" verify --archive "$work/data/archive.sqlite" >"$work/verify.out" 2>&1 || fail "archive does not verify: $(cat "$work/verify.out")"
  local files=("$work/data/certificates/"*)
  "$bin/rigctl" --data "$work/data" verify "${files[@]}" >"$work/verify.out" 2>&1 || fail "certificate files do not verify: $(cat "$work/verify.out")"
}

# After the last motor command of a unit, DUT power must go off.
power_off_after_motors() {
  local serial=$1
  awk -v s="$serial" '$2 == s' "$work/events.log" | awk '/ motors /{m=NR} / dut_power off/{if (NR > m) off=NR} END {exit !(m && off)}' ||
    fail "$serial: no 'dut_power off' after its last motor command"
}

