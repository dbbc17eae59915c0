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
expect_rc() {  # expect_rc CODE REGEX CMD...: the command exits CODE and says /REGEX/ (stdout and stderr)
  local want=$1 regex=$2
  shift 2
  "$@" >"$work/cmd.out" 2>&1
  local got=$?
  [[ $got -eq $want ]] || fail "$* exited $got, want $want: $(tail -n 5 "$work/cmd.out")"
  grep -qE -- "$regex" "$work/cmd.out" || fail "$* does not say /$regex/: $(tail -n 8 "$work/cmd.out")"
}
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

jigs=()  # rigd_bg's jig files: rigsim's one jig.toml unless a scenario names several
rigd_bg() {
  local jig_args=() j
  for j in "${jigs[@]:-$work/sim/jig.toml}"; do jig_args+=(--jig "$j"); done
  # shellcheck disable=SC2086  # rigd_wrap: a command rigd runs under (setpriv), word-split
  ${rigd_wrap:-} "$bin/rigd" "${jig_args[@]}" --variants "$src/fixtures/variants" --data "$work/data" "$@" >"$work/rigd.out" 2>"$work/rigd.err" &
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


# The HTTP API (api.sh, the browser tests).
url=""
api_start() {  # starts rigd in the background and finds its page's address in its log
  rigd_bg --units 0 --listen 127.0.0.1:0 "$@"
  for _ in $(seq 200); do
    url=$(sed -n 's/^rigd: operator page \(https\?:[^ ]*\) .*/\1/p' "$work/rigd.err" 2>/dev/null)
    [[ -n "$url" ]] && return 0
    sleep 0.05
  done
  fail "rigd did not say where its page is"
}
token() {  # token NAME ROLE [--nest N]: prints the secret
  "$bin/rigctl" --data "$work/data" token create --name "$1" --role "$2" "${@:3}" | tail -n 1
}
call() {  # call METHOD PATH TOKEN [BODY]: sets status and body
  local args=(-s -o "$work/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3")
  [[ -n "${4:-}" ]] && args+=(-H 'Content-Type: application/json' -d "$4")
  status=$(curl "${args[@]}" "${url%/}$2")
  body=$(cat "$work/body")
}
expect() {  # expect STATUS BODY_REGEX
  [[ "$status" == "$1" ]] || fail "HTTP $status, want $1: $body"
  [[ "$body" =~ $2 ]] || fail "body lacks /$2/: $body"
}
wait_nest() {  # wait_nest TOKEN REGEX TIMEOUT_S: polls GET /api/v1/nests/sim-line1
  for _ in $(seq $(( $3 * 10 ))); do
    call GET /api/v1/nests/sim-line1 "$1"
    [[ "$body" =~ $2 ]] && return 0
    sleep 0.1
  done
  fail "nest never matched /$2/: $body"
}
page_jig() {  # the page's scanner and the operator's start button, instead of the jig's reader and lid
  sed -i '/^\[station\]/a scanner = "page"\nstart = "operator"' "$work/sim/jig.toml"
}
