#!/usr/bin/env bash
# End-to-end through the HTTP API: the real rigd and rigsim, driven with curl as the README
# shows. Usage: api.sh BIN_DIR SOURCE_DIR SCENARIO
set -uo pipefail
bin=$1 src=$2 scenario=$3
# shellcheck source=tests/e2e/lib.sh
source "$src/tests/e2e/lib.sh"

events() {  # events TOKEN: the WebSocket's messages into events.ws, in the background
  curl -s -N --http1.1 --max-time 120 -H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
    -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" "${url%/}/api/v1/events?access_token=$1" >"$work/events.ws" &
  ws_pid=$!
}

case "$scenario" in
api_operator)
  population FPV5-000501
  start_sim
  page_jig
  mkdir -p "$work/data"
  op=$(token bench1 operator --nest sim-line1)
  eng=$(token eng engineer)
  qa=$(token qa1 qa)
  api_start
  events "$eng"
  wait_nest "$op" '"state":"loaded","detail":"waiting for a scan"' 60
  call POST /api/v1/nests/sim-line1/start "$op"
  expect 409 '"scan the unit.s barcode first"'
  call POST /api/v1/nests/sim-line1/scan "$op" '{"serial":"NOT A SERIAL"}'
  expect 422 'barcode'
  call POST /api/v1/nests/sim-line1/scan "$op" '{"serial":"FPV5-000501"}'
  expect 200 '"id":"sim-line1"'
  wait_nest "$op" '"state":"loaded","detail":"waiting for start","serial":"FPV5-000501"' 10
  call POST /api/v1/nests/sim-line1/start "$qa"
  expect 403 "role qa"
  call POST /api/v1/nests/sim-line1/start "$op"
  expect 202 '"id":"sim-line1"'
  wait_nest "$op" '"last":\{"serial":"FPV5-000501"' 90
  expect 200 '"last":\{"serial":"FPV5-000501","verdict":"pass","sequence":1,"sha256":"[0-9a-f]{64}"'
  sha=$(sed -n 's/.*"last":{[^}]*"sha256":"\([0-9a-f]*\)".*/\1/p' "$work/body")
  # The verdict on the WebSocket came after every step, and names a committed, valid certificate.
  sleep 0.5
  grep -aq '"type":"step_finished"' "$work/events.ws" || fail "no step_finished event"
  grep -aq '"type":"verdict"' "$work/events.ws" || fail "no verdict event"
  last_step=$(grep -ao '"type":"[a-z_]*"' "$work/events.ws" | grep -n step_finished | tail -n 1 | cut -d: -f1)
  verdict_at=$(grep -ao '"type":"[a-z_]*"' "$work/events.ws" | grep -n verdict | head -n 1 | cut -d: -f1)
  ((verdict_at > last_step)) || fail "the verdict event came before the last step finished"
  call GET "/api/v1/certificates/$sha" "$qa"
  expect 200 '"serial":"FPV5-000501".*"verification":\{"ok":true'
  call GET "/api/v1/certificates/$sha" "$op"
  expect 403 'role operator'
  call GET /metrics "$op"
  expect 200 'rig_units_total\{nest="sim-line1",variant="fpv5-bf",result="pass"\} 1'
  [[ "$body" =~ rig_step_duration_seconds_count\{kind=\"motors.spin\"\}\ 1 ]] || fail "no motors.spin duration in /metrics"
  call GET /api/v1/nests/sim-line1 "rig_$(printf '0%.0s' {1..64})"
  expect 401 '"unknown token"'
  kill -TERM "$rigd_pid"; wait "$rigd_pid"; rc=$?; rigd_pid=""
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_err 'station=sim-line1 event=api_request request=start by="bench1" result="ok"'
  verify_all
  stop_sim
  ;;
api_abort)
  population FPV5-000502
  start_sim
  mkdir -p "$work/data"
  op=$(token bench1 operator --nest sim-line1)
  api_start
  events "$op"
  wait_event 'FPV5-000502 motors (1[1-9][0-9][0-9],|1000,1[1-9])' 60
  call POST /api/v1/nests/sim-line1/abort "$op"
  expect 202 '"state":"running"'
  for _ in $(seq 300); do grep -q ABORTED "$work/rigd.out" && break; sleep 0.1; done
  grep -aq '"state":"aborted","detail":"aborted by bench1 (operator)"' "$work/events.ws" || fail "no aborted state on the WebSocket"
  expect_out '^unit FPV5-000502 +ABORTED \(aborted by bench1 \(operator\)\): no certificate issued'
  [[ -z "$(certs_of FPV5-000502)" ]] || fail "an aborted unit got a certificate"
  power_off_after_motors FPV5-000502
  wait_nest "$op" '"state":"idle"' 30
  call POST /api/v1/nests/sim-line1/abort "$op"
  expect 409 'nest sim-line1 has no unit to abort'
  kill -TERM "$rigd_pid"; wait "$rigd_pid"; rc=$?; rigd_pid=""
  [[ $rc -eq 3 ]] || fail "rigd exit $rc, want 3 (a unit was aborted)"
  stop_sim
  ;;
*)
  fail "unknown scenario"
  ;;
esac
echo "PASS [$scenario]"
