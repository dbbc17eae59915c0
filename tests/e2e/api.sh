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
  # The same certificate as a page: verified first, self-contained, its own CSP.
  call GET "/api/v1/certificates/$sha/html" "$qa"
  expect 200 'class="verdict v-pass">PASS</div>'
  [[ "$body" =~ data-measurement=\"motor1.rpm\"\ data-value=\"[0-9.]+\"\ data-min=\"[0-9.]+\"\ data-max=\"[0-9.]+\"\ data-verdict=\"pass\" ]] || fail "no motor 1 band chart in the page"
  headers=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $qa" "${url%/}/api/v1/certificates/$sha/html")
  grep -qi "^content-type: text/html; charset=utf-8" <<<"$headers" || fail "page content type: $headers"
  grep -qi "^content-security-policy: default-src 'none'; style-src 'unsafe-inline'" <<<"$headers" || fail "page CSP: $headers"
  call GET "/api/v1/certificates/$(printf '0%.0s' {1..64})/html" "$qa"
  expect 404 'no certificate with sha256 0{64}'
  call GET "/api/v1/certificates/$sha/html" "$op"
  expect 403 'role operator'
  # A row changed behind the station's back is not drawn: 422 naming why (then put back).
  sqlite3 "$work/data/archive.sqlite" "DROP TRIGGER certificates_no_update; UPDATE certificates SET verdict='fail' WHERE sha256='$sha';"
  call GET "/api/v1/certificates/$sha/html" "$qa"
  expect 422 "certificate $sha is NOT VALID: column 'verdict' is 'fail' but the signed payload says 'pass'"
  sqlite3 "$work/data/archive.sqlite" "UPDATE certificates SET verdict='pass' WHERE sha256='$sha';"
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
api_drops_and_service)
  # An abort before the test: a unit waiting for its scan, a unit waiting for START, a scan
  # waiting for its unit. None is tested or certified; the stack light says take it out. Then
  # the nest goes out of service and back.
  population FPV5-000511 FPV5-000512
  start_sim
  page_jig
  mkdir -p "$work/data"
  op=$(token bench1 operator --nest sim-line1)
  eng=$(token eng engineer)
  api_start
  wait_nest "$op" '"state":"loaded","detail":"waiting for a scan"' 60
  call POST /api/v1/nests/sim-line1/abort "$op"
  expect 202 ''
  wait_nest "$op" '"state":"aborted","detail":"aborted by bench1 \(operator\)"' 20
  wait_event 'FPV5-000511 lid opened, unloaded' 20
  wait_nest "$op" '"state":"loaded","detail":"waiting for a scan"' 60
  call POST /api/v1/nests/sim-line1/scan "$op" '{"serial":"FPV5-000512"}'
  expect 200 ''
  wait_nest "$op" '"detail":"waiting for start"' 20
  call POST /api/v1/nests/sim-line1/abort "$op"
  expect 202 ''
  wait_nest "$op" '"state":"idle"' 30
  expect_out '^unit \(none\) +not tested: aborted by bench1 \(operator\)'
  expect_out '^unit FPV5-000512 +not tested: aborted by bench1 \(operator\)'
  grep -q 'dut_power on' "$work/events.log" && fail "a unit aborted before its test was powered"
  [[ -z "$(certs_of FPV5-000512)" ]] || fail "a unit aborted before its test got a certificate"
  # A scan waiting for its unit (the lot is done: no unit comes) is dropped by an abort.
  call POST /api/v1/nests/sim-line1/scan "$op" '{"serial":"FPV5-000599"}'
  expect 200 '"scanned":"FPV5-000599"'
  call POST /api/v1/nests/sim-line1/abort "$op"
  expect 202 ''
  wait_nest "$op" '"state":"idle".*"scanned":""' 10
  expect_err 'event=scan_dropped serial=FPV5-000599 by="bench1 \(operator\)"'
  # Out of service: operators may not, engineers may; a reason is required.
  call POST /api/v1/nests/sim-line1/service "$op" '{"out":true,"reason":"calibration"}'
  expect 403 ''
  call POST /api/v1/nests/sim-line1/service "$eng" '{"out":true}'
  expect 400 "key 'reason' is required"
  call POST /api/v1/nests/sim-line1/service "$eng" '{"out":true,"reason":"PSU calibration"}'
  expect 202 ''
  wait_nest "$eng" '"state":"out_of_service","detail":"PSU calibration \(eng \(engineer\)\)"' 10
  call POST /api/v1/nests/sim-line1/scan "$op" '{"serial":"FPV5-000598"}'
  expect 409 "out of service: PSU calibration"
  call POST /api/v1/nests/sim-line1/service "$eng" '{"out":false}'
  expect 202 ''
  wait_nest "$eng" '"state":"idle"' 10
  expect_out "^OUT OF SERVICE: PSU calibration \\(eng \\(engineer\\)\\)$"
  expect_out '^back in service$'
  kill -TERM "$rigd_pid"; wait "$rigd_pid"; rc=$?; rigd_pid=""
  [[ $rc -eq 0 ]] || fail "rigd exit $rc, want 0 (nothing was aborted mid-test)"
  stop_sim
  ;;
api_tls)
  # HTTPS and WSS with certificate files: curl trusts rigd's certificate through its CA only;
  # plain HTTP on the TLS port is refused; a key that is not the certificate's stops rigd.
  population FPV5-000521
  start_sim
  mkdir -p "$work/data" "$work/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=rig test CA" \
    -keyout "$work/tls/ca.key" -out "$work/tls/ca.pem" 2>/dev/null || fail "openssl: no CA"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" -keyout "$work/tls/rigd.key" \
    -out "$work/tls/rigd.csr" 2>/dev/null || fail "openssl: no CSR"
  printf 'subjectAltName=IP:127.0.0.1\n' >"$work/tls/ext"
  openssl x509 -req -in "$work/tls/rigd.csr" -CA "$work/tls/ca.pem" -CAkey "$work/tls/ca.key" -CAcreateserial -days 2 \
    -extfile "$work/tls/ext" -out "$work/tls/rigd.pem" 2>/dev/null || fail "openssl: no certificate"
  "$bin/rigd" --jig "$work/sim/jig.toml" --variants "$src/fixtures/variants" --data "$work/data-bad" --listen 127.0.0.1:0 \
    --tls-cert "$work/tls/rigd.pem" --tls-key "$work/tls/ca.key" >"$work/bad.out" 2>&1
  [[ $? -eq 2 ]] || fail "rigd started with a key that is not its certificate's"
  grep -qx "rigd: --tls-key $work/tls/ca.key: not the key of the certificate in $work/tls/rigd.pem" "$work/bad.out" || fail "wrong-key message: $(cat "$work/bad.out")"
  [[ ! -e "$work/data-bad" ]] || fail "rigd wrote its data directory before refusing the TLS files"
  eng=$(token eng engineer)
  api_start --tls-cert "$work/tls/rigd.pem" --tls-key "$work/tls/rigd.key"
  [[ "$url" == https://127.0.0.1:* ]] || fail "rigd's page is not https: $url"
  curl_tls=(--cacert "$work/tls/ca.pem")
  status=$(curl -s "${curl_tls[@]}" -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $eng" "${url%/}/api/v1/nests")
  [[ "$status" == 200 ]] && grep -q '"id":"sim-line1"' "$work/body" || fail "GET /api/v1/nests over HTTPS: $status $(cat "$work/body")"
  curl -s "${curl_tls[@]}" -H "Authorization: Bearer $eng" "${url%/}/metrics" | grep -q '^# TYPE rig_units_total counter' || fail "no /metrics over HTTPS"
  curl -s -N --http1.1 --max-time 60 "${curl_tls[@]}" -H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
    -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" "${url%/}/api/v1/events?access_token=$eng" >"$work/events.ws" &
  ws_pid=$!
  for _ in $(seq 600); do grep -aq '"type":"verdict"' "$work/events.ws" && break; sleep 0.1; done
  grep -aq '"type":"verdict"' "$work/events.ws" || fail "no verdict event over WSS"
  kill "$ws_pid" 2>/dev/null
  curl -s -o /dev/null "${url%/}/api/v1/nests" && fail "rigd's certificate was trusted without its CA"
  plain=${url/https:/http:}
  curl -s --max-time 5 -o /dev/null "${plain%/}/api/v1/nests" && fail "plain HTTP answered on the TLS port"
  for _ in $(seq 50); do grep -q 'event=api_tls_refused' "$work/rigd.err" && break; sleep 0.1; done
  expect_err 'event=api_tls_refused'
  kill -TERM "$rigd_pid"; wait "$rigd_pid"; rigd_pid=""
  stop_sim
  ;;
*)
  fail "unknown scenario"
  ;;
esac
echo "PASS [$scenario]"
