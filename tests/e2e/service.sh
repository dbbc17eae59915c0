#!/usr/bin/env bash
# rigd as a systemd service, without systemd: sd_notify's messages caught on a datagram socket
# (tests/tools/notify_sink), and scripts/install staged under a DESTDIR.
# Usage: service.sh BIN_DIR SOURCE_DIR SCENARIO
set -uo pipefail
bin=$1 src=$2 scenario=$3
# shellcheck source=tests/e2e/lib.sh
source "$src/tests/e2e/lib.sh"

case "$scenario" in
sd_notify)
  population FPV5-000701
  start_sim
  "$bin/notify_sink" "$work/notify.sock" "$work/notify.log" &
  sink_pid=$!
  for _ in $(seq 100); do [[ -S "$work/notify.sock" ]] && break; sleep 0.05; done
  # WATCHDOG_USEC as systemd sets it with WatchdogSec=: rigd pings at a third of it.
  NOTIFY_SOCKET="$work/notify.sock" WATCHDOG_USEC=600000 rigd_bg --units 0
  for _ in $(seq 900); do grep -q '^unit FPV5-000701 ' "$work/rigd.out" 2>/dev/null && break; sleep 0.1; done
  expect_out '^unit FPV5-000701 +PASS'
  sleep 1.5  # the next STATUS
  kill -TERM "$rigd_pid"; wait "$rigd_pid"; rc=$?; rigd_pid=""
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  sleep 0.2; kill -TERM "$sink_pid"; wait "$sink_pid" 2>/dev/null
  log() { cat "$work/notify.log"; }
  head -n 1 "$work/notify.log" | grep -qE '^[0-9.]+ READY=1 \| STATUS=1 nest: [0-9] testing, 1 waiting, 0 stopped or out of service; 0 tested: 0 pass, 0 fail, 0 error, 0 aborted \| MAINPID=[0-9]+$' ||
    fail "the first message is not READY=1 with STATUS: $(log)"
  grep -qE 'STATUS=1 nest: 1 testing' "$work/notify.log" || fail "no STATUS while testing: $(log)"
  grep -qE 'STATUS=1 nest: 0 testing, 1 waiting, 0 stopped or out of service; 1 tested: 1 pass, 0 fail' "$work/notify.log" || fail "no STATUS after the unit: $(log)"
  grep -qE 'STOPPING=1 \| STATUS=stopping: SIGTERM received' "$work/notify.log" || fail "no STOPPING on SIGTERM: $(log)"
  # Pings all along, every 200 ms (a third of 600 ms): none more than 400 ms apart.
  pings=$(grep -c 'WATCHDOG=1' "$work/notify.log")
  ((pings >= 20)) || fail "only $pings watchdog pings: $(log)"
  awk '/WATCHDOG=1/ { if (last && $1 - last > 0.4) { print "gap " $1 - last " s at " $1; bad = 1 } last = $1 } END { exit bad }' "$work/notify.log" >"$work/gaps" ||
    fail "watchdog pings too far apart: $(cat "$work/gaps")"
  stop_sim
  ;;
no_notify)
  # Not under systemd: no NOTIFY_SOCKET, nothing sent and nothing breaks.
  population FPV5-000702
  start_sim
  env -u NOTIFY_SOCKET WATCHDOG_USEC=600000 "$bin/rigd" --jig "$work/sim/jig.toml" --variants "$src/fixtures/variants" --data "$work/data" --units 1 \
    >"$work/rigd.out" 2>"$work/rigd.err" || fail "rigd exit $?"
  expect_out '^unit FPV5-000702 +PASS'
  stop_sim
  ;;
install)
  root="$work/root"
  DESTDIR="$root" RIG_BUILD="$bin/.." bash "$src/scripts/install" /opt/rig >"$work/install.out" 2>&1 || fail "install failed: $(cat "$work/install.out")"
  for f in bin/rigd bin/rigctl bin/rigsim; do
    [[ "$(stat -c %a "$root/opt/rig/$f")" == 755 ]] || fail "$f not installed 0755"
  done
  for f in index.html app.js i18n.js tiles.js api.js sound.js style.css; do
    [[ "$(stat -c %a "$root/opt/rig/share/rig/page/$f")" == 644 ]] || fail "page file $f not installed 0644"
  done
  [[ "$(stat -c %a "$root/var/lib/rig")" == 750 ]] || fail "/var/lib/rig is not 0750"
  unit="$root/etc/systemd/system/rigd.service"
  grep -qx 'ExecStart=/opt/rig/bin/rigd --jig /etc/rig/jig.toml --variants /etc/rig/variants --data /var/lib/rig --listen 127.0.0.1:8420 --nice 0' "$unit" ||
    fail "unit's ExecStart: $(grep ExecStart "$unit")"
  grep -qx 'Type=notify' "$unit" && grep -qx 'WatchdogSec=10' "$unit" || fail "unit is not Type=notify with WatchdogSec"
  grep -q '@PREFIX@' "$unit" && fail "unit still has @PREFIX@"
  [[ -f "$root/etc/rig/variants/fpv5-bf.toml" ]] || fail "no variants in /etc/rig/variants"
  # The installed rigd serves the installed page, found beside its binary.
  population FPV5-000703
  start_sim
  page_jig
  mkdir -p "$work/data"
  eng=$(token eng engineer)
  bin="$root/opt/rig/bin" api_start
  page=$(curl -s "$url")
  [[ "$page" == "$(cat "$root/opt/rig/share/rig/page/index.html")" ]] || fail "the installed rigd does not serve the installed page"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "${url}static/app.js")" == 200 ]] || fail "no app.js from the installed page"
  kill -TERM "$rigd_pid"; wait "$rigd_pid"; rigd_pid=""
  stop_sim
  ;;
*)
  fail "unknown scenario"
  ;;
esac
echo "PASS [$scenario]"
