#!/usr/bin/env bash
# The factory archive on a real PostgreSQL (started here, as an unprivileged user): rigd forwards
# to its inbox, `rigctl factory ingest` verifies it in, QA reads it as it reads SQLite, the roles
# hold, and a station whose archive was restored and forked is refused with an alarm.
# usage: factory.sh BIN_DIR SOURCE_DIR SCENARIO
set -uo pipefail
bin=$1 src=$2 scenario=$3
source "$(dirname "$0")/lib.sh"
source "$src/tests/pg/server.sh"
proxy_pid=""
cleanup_all() { stop_bg 2>/dev/null; [[ -n "$proxy_pid" ]] && kill -KILL "$proxy_pid" 2>/dev/null; pg_stop; cleanup; }
trap cleanup_all EXIT

rigctl() { "$bin/rigctl" --data "$work/data" "$@"; }

# A loopback TCP proxy in front of the server (tests/tools/tcp_proxy.py): kill -USR1 freezes the
# connections through it, kill -USR2 resets them. station1 reaches the server through it as
# $pg_station_proxied.
start_proxy() {
  python3 "$src/tests/tools/tcp_proxy.py" "$pg_port" "$work/proxy.port" >"$work/proxy.out" 2>&1 &
  proxy_pid=$!
  for _ in $(seq 100); do [[ -s "$work/proxy.port" ]] && break; sleep 0.05; done
  local port
  port=$(cat "$work/proxy.port" 2>/dev/null) || fail "the proxy did not start: $(cat "$work/proxy.out")"
  echo "127.0.0.1:$port:rig:station1:pw-station1" >>"$PGPASSFILE"
  pg_station_proxied=${pg_station/:$pg_port\//:$port/}
}
count() { pg_sql "SELECT count(*) FROM rig.$1"; }
want_count() { local n; n=$(count "$1"); [[ "$n" == "$2" ]] || fail "rig.$1 holds $n rows, want $2"; }

# Every QA command on both archives: the same answers, once each archive's name is taken out.
parity() {
  local sqlite="$work/data/archive.sqlite" pg=$pg_qa cmd a b
  local commands=("list" "list --json" "list --verify --json" "list --lot LOT-E2E --verdict fail --json" "list --newest-first --limit 2 --json"
    "show FPV5-000603 --json" "show FPV5-000601" "verify --json" "stats --json" "stats")
  for cmd in "${commands[@]}"; do
    local sub=${cmd%% *} rest=${cmd#* }
    [[ "$rest" == "$cmd" ]] && rest=""
    # shellcheck disable=SC2086  # the command's own words
    rigctl $sub --archive "$sqlite" $rest >"$work/a.out" 2>&1
    a=$?
    # shellcheck disable=SC2086
    rigctl $sub --archive "$pg" $rest >"$work/b.out" 2>&1
    b=$?
    [[ $a -eq $b ]] || fail "rigctl $cmd: exit $a on SQLite, $b on PostgreSQL"
    sed -i "s#$sqlite#ARCHIVE#g; s#archive.sqlite#ARCHIVE#g" "$work/a.out"
    sed -i "s#postgresql://qa1:\*\*\*@127.0.0.1:$pg_port/rig#ARCHIVE#g; s#postgresql://qa1@127.0.0.1:$pg_port/rig#ARCHIVE#g" "$work/b.out"
    diff "$work/a.out" "$work/b.out" >"$work/diff.out" || fail "rigctl $cmd differs between SQLite and PostgreSQL: $(head -n 20 "$work/diff.out")"
    [[ -s "$work/a.out" ]] || fail "rigctl $cmd printed nothing"
  done
  # An export bundle from each: the same certificates, each verifying offline.
  rigctl export --lot LOT-E2E --archive "$sqlite" -o "$work/a.tar.gz" >/dev/null 2>&1 || fail "export from SQLite"
  rigctl export --lot LOT-E2E --archive "$pg" -o "$work/b.tar.gz" >"$work/cmd.out" 2>&1 || fail "export from PostgreSQL: $(cat "$work/cmd.out")"
  for x in a b; do
    rigctl verify "$work/$x.tar.gz" >"$work/cmd.out" 2>&1 || fail "bundle $x does not verify: $(tail -n 5 "$work/cmd.out")"
    mkdir -p "$work/$x" && tar xzf "$work/$x.tar.gz" -C "$work/$x" || fail "unpack $x"
  done
  diff -r "$work/a/certificates" "$work/b/certificates" >/dev/null || fail "the bundles' certificates differ"
  diff -r "$work/a/checkpoints" "$work/b/checkpoints" >/dev/null || fail "the bundles' checkpoints differ"
}


# ---- faults: a station archive of $n certificates (3 stations) forwarded by the same
# Forwarder as rigd's (rigctl factory forward --follow), verified in by ingest --follow, while one
# fault hits mid-forward; then every certificate must be there exactly once, in order, verifying.
n=6000 ingest_pid="" fwd_pid=""
ids=(--station line1-01 --station line1-02 --station line1-03)
fresh_db() {
  pg_as "$pg_bin/psql" -qAt -h "$pg_dir" -p "$pg_port" -U rig_admin -d postgres -c "DROP DATABASE IF EXISTS rig WITH (FORCE)" >/dev/null &&
    pg_as "$pg_bin/psql" -qAt -h "$pg_dir" -p "$pg_port" -U rig_admin -d postgres -c "CREATE DATABASE rig" >/dev/null || fail "cannot remake the database"
  "$bin/rigctl" db migrate --archive "$pg_admin" >/dev/null 2>&1 || fail "migrate"
}
start_ingest() {
  "$bin/rigctl" --data "$work/station" factory ingest --follow --archive "$pg_ingest" >>"$work/ingest.out" 2>&1 &
  ingest_pid=$!
}
start_forward() {
  # shellcheck disable=SC2086  # fwd_args: words
  "$bin/rigctl" factory forward --follow --batch 25 ${fwd_args:-} --from "$work/station/archive.sqlite" "${ids[@]}" --archive "${fwd_url:-$pg_station}" \
    >>"$work/forward.out" 2>&1 &
  fwd_pid=$!
}
stop_bg() { for p in $fwd_pid $ingest_pid; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; fwd_pid="" ingest_pid=""; }
arrived() { pg_sql "SELECT (SELECT count(*) FROM rig.certificates) + (SELECT count(*) FROM rig.inbox)" 2>/dev/null || echo 0; }
stored() { pg_sql "SELECT count(*) FROM rig.certificates" 2>/dev/null || echo 0; }
wait_until() {  # wait_until FUNCTION AT_LEAST TIMEOUT_S
  for _ in $(seq $(( $3 * 10 ))); do (( $($1) >= $2 )) && return 0; sleep 0.1; done
  fail "timed out: $1 is $($1), want $2 (forward: $(tail -n 2 "$work/forward.out"); ingest: $(tail -n 2 "$work/ingest.out"))"
}
run_fault() {  # run_fault NAME ACTION
  local name=$1 action=$2 at
  fresh_db
  : >"$work/ingest.out"; : >"$work/forward.out"
  start_ingest
  start_forward
  wait_until arrived $(( n / 4 )) 120
  at=$(arrived)
  eval "$action"
  wait_until stored $n 240
  sleep 1
  stop_bg
  local rows distinct lost disorder resent alarms
  rows=$(stored)
  distinct=$(pg_sql "SELECT count(DISTINCT (station, sequence)) FROM rig.certificates")
  lost=$(( n - distinct ))
  disorder=$(pg_sql "SELECT count(*) FROM (SELECT sequence - lag(sequence) OVER (PARTITION BY station ORDER BY id) AS d FROM rig.certificates) x WHERE d <> 1")
  resent=$(sed -n 's/^ingest: [0-9]* accepted, \([0-9]*\) duplicates.*/\1/p' "$work/ingest.out" | awk '{s += $1} END {print s + 0}')
  alarms=$(pg_sql "SELECT count(*) FROM rig.alarms")
  printf '| %s | %d | %d | %d | %d | %d | %d | %d |\n' "$name" "$n" "$at" "$rows" $(( rows - distinct )) "$lost" "$resent" "$alarms" >>"$work/faults.md"
  (( rows == n && distinct == n && disorder == 0 && alarms == 0 )) ||
    fail "$name: $rows rows, $distinct distinct, $disorder out of order, $alarms alarms, of $n"
  "$bin/rigctl" --data "$work/qa" verify --brief --trust "$work/station/trust" --archive "$pg_qa" >"$work/cmd.out" 2>&1 ||
    fail "$name: the factory archive does not verify: $(tail -n 5 "$work/cmd.out")"
  grep -q "^verified $n certificates" "$work/cmd.out" || fail "$name: $(tail -n 2 "$work/cmd.out")"
}
restore_from_backup() {  # a dump taken mid-way; everything arrives; the server is restored from the dump
  pg_as "$pg_bin/pg_dump" -h "$pg_dir" -p "$pg_port" -U rig_admin -Fc -f "$pg_dir/mid.dump" rig || fail "pg_dump"
  wait_until stored $n 240
  kill -TERM "$ingest_pid"; wait "$ingest_pid" 2>/dev/null
  pg_as "$pg_bin/psql" -qAt -h "$pg_dir" -p "$pg_port" -U rig_admin -d postgres -c "DROP DATABASE rig WITH (FORCE)" >/dev/null &&
    pg_as "$pg_bin/psql" -qAt -h "$pg_dir" -p "$pg_port" -U rig_admin -d postgres -c "CREATE DATABASE rig" >/dev/null || fail "drop for restore"
  pg_as "$pg_bin/pg_restore" -h "$pg_dir" -p "$pg_port" -U rig_admin -d rig "$pg_dir/mid.dump" || fail "pg_restore"
  restored=$(stored)
  (( restored < n )) || fail "the backup holds every certificate already"
  start_ingest
}

case $scenario in
forward)
  pg_start "$work/pg"
  pg_users
  population FPV5-000601 FPV5-000602 FPV5-000603=weak_motor:3 FPV5-000604 FPV5-000605
  start_sim
  rigd --units 3 --factory "$pg_station"
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_err "rigd: forwarding to the factory archive postgresql://station1@127.0.0.1:$pg_port/rig"
  expect_err "factory archive postgresql://station1@127.0.0.1:$pg_port/rig: connected; station sim-line1 after 0"
  cp -a "$work/data" "$work/data.3"  # the station's data directory after 3 units, for the fork below
  rigd --units 1 --factory "$pg_station"
  [[ $rc -eq 0 ]] || fail "rigd exit $rc (second run)"
  expect_err "connected; station sim-line1 after 3"
  # Forwarded, not yet verified: the inbox holds them, the certificates table nothing.
  want_count inbox 4
  want_count certificates 0
  expect_rc 0 "^ingest: 4 accepted, 0 duplicates, 0 refused \(alarms\), 0 waiting" rigctl factory ingest --archive "$pg_ingest"
  want_count certificates 4
  want_count checkpoints 4
  want_count inbox 0
  [[ $(pg_sql "SELECT string_agg(sequence::text, ',' ORDER BY id) FROM rig.certificates") == "1,2,3,4" ]] || fail "certificates out of order"
  expect_rc 0 "^ingest: 0 accepted" rigctl factory ingest --archive "$pg_ingest"
  expect_rc 0 "station sim-line1: 4 certificates, head sequence 4, checkpoint at 4" rigctl factory status --archive "$pg_qa"
  expect_rc 0 "^verified 4 certificates" rigctl verify --archive "$pg_qa"
  parity

  # Roles: a station inserts and reads nothing; QA reads and writes nothing; rows are append-only.
  expect_rc 4 "permission denied for table certificates \(SQLSTATE 42501\)" rigctl list --archive "$pg_station"
  "$pg_bin/psql" "$pg_qa" -c "INSERT INTO rig.inbox (station, sequence, sha256, envelope) VALUES ('x', 1, 'y', 'z')" >"$work/cmd.out" 2>&1 &&
    fail "QA inserted into the inbox"
  grep -q "permission denied for table inbox" "$work/cmd.out" || fail "QA's insert: $(cat "$work/cmd.out")"
  "$pg_bin/psql" "$pg_ingest" -c "UPDATE rig.certificates SET verdict = 'pass'" >"$work/cmd.out" 2>&1 && fail "ingest updated a certificate"
  grep -q "permission denied for table certificates" "$work/cmd.out" || fail "ingest's update: $(cat "$work/cmd.out")"
  pg_sql "DELETE FROM rig.certificates WHERE sequence = 4" >"$work/cmd.out" 2>&1 && fail "the owner deleted a certificate"
  grep -q "certificates is append-only" "$work/cmd.out" || fail "owner's delete: $(cat "$work/cmd.out")"

  # The station's archive restored from the copy after 3 units: its next certificate is a second
  # sequence 4. The forwarder sees the factory's sha256 is not its own and sends it; ingest
  # refuses it as a fork with an alarm, and the factory archive keeps its 4 certificates.
  rm -rf "$work/data" && mv "$work/data.3" "$work/data"
  rigd --units 1 --factory "$pg_station"
  [[ $rc -eq 0 ]] || fail "rigd exit $rc (restored station)"
  expect_err "ALARM: it holds another certificate for station sim-line1 sequence 4"
  expect_rc 1 "ALARM fork: station sim-line1 sequence 4: a second certificate" rigctl factory ingest --archive "$pg_ingest"
  grep -q "^ingest: 0 accepted, 0 duplicates, 1 refused" "$work/cmd.out" || fail "ingest counts: $(cat "$work/cmd.out")"
  want_count certificates 4
  expect_rc 0 "fork +station=sim-line1 seq=4 x1 from station1" rigctl factory alarms --archive "$pg_qa"
  # The factory archive alone verifies; held against the forked station's own checkpoint file,
  # the fork shows.
  mkdir -p "$work/qa"
  expect_rc 0 "^verified 4 certificates" "$bin/rigctl" --data "$work/qa" verify --trust "$work/data/trust" --archive "$pg_qa"
  expect_rc 1 "two checkpoints of station sim-line1 sign different heads for sequence 4 \(a fork\)" rigctl verify --archive "$pg_qa"
  stop_sim
  ;;
faults)
  pg_start "$work/pg"
  pg_users
  mkdir -p "$work/qa"
  "$bin/archive_build" "$work/station" $n 3 >"$work/build.out" 2>&1 || fail "archive_build: $(tail -n 3 "$work/build.out")"
  echo "| fault | sent | arrived when it hit | stored | duplicates | lost | resent (dropped by ingest) | alarms |" >"$work/faults.md"
  echo "|---|---|---|---|---|---|---|---|" >>"$work/faults.md"
  run_fault "none" ":"
  run_fault "server stopped (pg_ctl stop -m fast) for 3 s, restarted" "pg_stop; sleep 3; pg_boot || fail restart"
  run_fault "server killed (SIGKILL to the postmaster), restarted" "pg_kill; sleep 1; pg_boot || fail restart"
  run_fault "connections cut (pg_terminate_backend of station and ingest)" \
    "pg_sql \"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename IN ('station1', 'ingest1')\" >/dev/null"
  run_fault "forwarder killed (SIGKILL) mid-forward, restarted" "kill -KILL \$fwd_pid; wait \$fwd_pid 2>/dev/null; start_forward"
  run_fault "server restored from a backup lacking the last rows" "restore_from_backup"
  # The forwarder reaches the server through a proxy that fails under it.
  start_proxy
  fwd_url=$pg_station_proxied fwd_args="--reply-timeout 3"
  run_fault "proxy between station and server reset (RST to both ends)" "kill -USR2 \$proxy_pid"
  grep -q "tcp_proxy: reset [1-9]" "$work/proxy.out" || fail "the proxy reset nothing: $(cat "$work/proxy.out")"
  run_fault "proxy between station and server frozen (no byte passed, both sockets held open)" "kill -USR1 \$proxy_pid"
  grep -q "tcp_proxy: froze [1-9]" "$work/proxy.out" || fail "the proxy froze nothing: $(cat "$work/proxy.out")"
  grep -q "no reply within 3 s; connection dropped" "$work/forward.out" ||
    fail "the frozen connection was not dropped at its reply timeout: $(tail -n 5 "$work/forward.out")"
  grep -q "ended the lingering server session of the dropped connection" "$work/forward.out" ||
    fail "the frozen connection's server session was not ended: $(tail -n 5 "$work/forward.out")"
  fwd_url="" fwd_args=""
  cat "$work/faults.md"
  [[ -n "${RIG_ARTIFACTS:-}" ]] && mkdir -p "$RIG_ARTIFACTS" && cp "$work/faults.md" "$RIG_ARTIFACTS/factory-faults.md"
  ;;
rigd_killed)
  # rigd itself killed (SIGKILL) in the middle of forwarding: its station's backlog of $n
  # certificates (bench_archive_build's, station line1-01) goes to a server slowed to 0.25 s a
  # statement, so that the kill lands while a batch is on its way. The restarted rigd resumes
  # from what the factory acknowledged, tests a unit, and the factory ends with every
  # certificate once.
  pg_start "$work/pg"
  pg_users
  "$bin/archive_build" "$work/data" $n 1 >"$work/build.out" 2>&1 || fail "archive_build: $(tail -n 3 "$work/build.out")"
  population FPV5-000701
  SIM_ARGS="--station line1-01" start_sim
  pg_sql "CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(0.25); RETURN NULL; END \$\$;
          CREATE TRIGGER slow BEFORE INSERT ON rig.inbox FOR EACH STATEMENT EXECUTE FUNCTION public.slow()" >/dev/null || fail "slow trigger"
  rigd_bg --factory "$pg_station"
  for _ in $(seq 600); do (( $(count inbox) >= 1000 )) && break; sleep 0.1; done
  kill -KILL "$rigd_pid"
  wait "$rigd_pid" 2>/dev/null
  rigd_pid=""
  # The batch whose statement was running may still commit: the server finishes a statement
  # whose client is gone. Count once the station's backend has ended.
  for _ in $(seq 100); do [[ $(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'station1'") == 0 ]] && break; sleep 0.1; done
  sent=$(count inbox)
  (( sent >= 1000 && sent < n )) || fail "the kill did not land mid-forward: $sent of $n in the inbox"
  (( sent % 500 == 0 )) || fail "a batch arrived in part: $sent rows in the inbox"
  pg_sql "DROP TRIGGER slow ON rig.inbox" >/dev/null
  rigd --units 1 --factory "$pg_station"
  [[ $rc -eq 0 ]] || fail "rigd exit $rc (after the kill)"
  expect_err "connected; station line1-01 after $sent"
  want_count inbox $(( n + 1 ))
  expect_rc 0 "^ingest: $(( n + 1 )) accepted, 0 duplicates, 0 refused \(alarms\), 0 waiting" rigctl factory ingest --archive "$pg_ingest"
  [[ $(pg_sql "SELECT count(DISTINCT sequence) || ' ' || min(sequence) || ' ' || max(sequence) FROM rig.certificates") == "$(( n + 1 )) 1 $(( n + 1 ))" ]] ||
    fail "not every certificate once: $(pg_sql "SELECT count(*), count(DISTINCT sequence), min(sequence), max(sequence) FROM rig.certificates")"
  want_count alarms 0
  mkdir -p "$work/qa"
  expect_rc 0 "^verified $(( n + 1 )) certificates" "$bin/rigctl" --data "$work/qa" verify --brief --trust "$work/data/trust" --archive "$pg_qa"
  echo "rigd killed with $sent of $n sent; after the restart $(( n + 1 )) stored once each"
  stop_sim
  ;;
rigd_frozen)
  # rigd forwards through a proxy that freezes (no byte passed, both sockets held open: TCP looks
  # healthy, keepalives are answered). (1) With --factory-reply-timeout 2 the frozen statement is
  # given up, the connection made anew, and the backlog arrives while units are tested. (2) With
  # a reply timeout longer than the run, rigd still exits on time: the waiting statement is
  # abandoned at exit and its certificates are sent after the next start (3).
  pg_start "$work/pg"
  pg_users
  start_proxy
  "$bin/archive_build" "$work/data" $n 1 >"$work/build.out" 2>&1 || fail "archive_build: $(tail -n 3 "$work/build.out")"
  population FPV5-000711 FPV5-000712 FPV5-000713 FPV5-000714
  SIM_ARGS="--station line1-01" start_sim
  pg_sql "CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(0.25); RETURN NULL; END \$\$;
          CREATE TRIGGER slow BEFORE INSERT ON rig.inbox FOR EACH STATEMENT EXECUTE FUNCTION public.slow()" >/dev/null || fail "slow trigger"
  rigd_bg --units 2 --factory "$pg_station_proxied" --factory-reply-timeout 2 --factory-drain 30
  for _ in $(seq 600); do (( $(count inbox) >= 1000 )) && break; sleep 0.1; done
  kill -USR1 "$proxy_pid"
  wait "$rigd_pid"
  rc=$? rigd_pid=""
  [[ $rc -eq 0 ]] || fail "rigd exit $rc (frozen, reply timeout 2 s)"
  expect_out "^unit FPV5-000712 +PASS"
  grep -q "tcp_proxy: froze 1 connections" "$work/proxy.out" || fail "the proxy froze: $(cat "$work/proxy.out")"
  expect_err "factory archive: postgresql://station1@127.0.0.1:[0-9]+/rig: no reply within 2 s; connection dropped"
  [[ $(grep -c "connected; station line1-01 after" "$work/rigd.err") -ge 2 ]] || fail "rigd did not connect again after the freeze"
  # The frozen connection's server session (idle, or waiting for the rest of a batch with a lock
  # on rig.inbox that would block a migration) was ended by the new connection.
  expect_err "factory archive: ended the lingering server session of the dropped connection \(pid [0-9]+\)"
  for _ in $(seq 50); do [[ $(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'station1'") == 0 ]] && break; sleep 0.1; done
  [[ $(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'station1'") == 0 ]] || fail "station1 sessions linger after rigd's exit"
  want_count inbox $(( n + 2 ))
  # (2) A unit tested while the connection is frozen, and a reply timeout of 10 minutes.
  rigd_bg --units 1 --factory "$pg_station_proxied" --factory-reply-timeout 600 --factory-drain 1
  for _ in $(seq 300); do grep -q "connected; station line1-01 after $(( n + 2 ))" "$work/rigd.err" && break; sleep 0.1; done
  kill -USR1 "$proxy_pid"
  start=$(date +%s%N)
  # Without the abandoned wait rigd would hang for the reply timeout's 10 minutes.
  for _ in $(seq 600); do kill -0 "$rigd_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$rigd_pid" 2>/dev/null && fail "rigd did not exit within 60 s of its last unit with a statement waiting on a frozen connection"
  wait "$rigd_pid"
  rc=$? rigd_pid=""
  [[ $rc -eq 0 ]] || fail "rigd exit $rc (frozen at exit)"
  expect_out "^unit FPV5-000713 +PASS"
  expect_err "station line1-01 has 1 certificates not yet acknowledged \(sequences $(( n + 3 ))\.\.$(( n + 3 ))\); they are sent after the next start"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  want_count inbox $(( n + 2 ))
  # (3) Restarted, through the proxy's new connections: the rest arrives once.
  pg_sql "SET lock_timeout = '10s'; DROP TRIGGER slow ON rig.inbox" >/dev/null || fail "a lock held on rig.inbox: $(pg_sql "SELECT pid, usename, state FROM pg_stat_activity")"
  rigd --units 1 --factory "$pg_station_proxied"
  [[ $rc -eq 0 ]] || fail "rigd exit $rc (restarted)"
  expect_err "connected; station line1-01 after $(( n + 2 ))"
  want_count inbox $(( n + 4 ))
  expect_rc 0 "^ingest: $(( n + 4 )) accepted, 0 duplicates, 0 refused \(alarms\), 0 waiting" rigctl factory ingest --archive "$pg_ingest"
  want_count alarms 0
  mkdir -p "$work/qa"
  expect_rc 0 "^verified $(( n + 4 )) certificates" "$bin/rigctl" --data "$work/qa" verify --brief --trust "$work/data/trust" --archive "$pg_qa"
  echo "frozen proxy: reply timeout 2 s recovered; rigd exited ${ms} ms after the freeze with a statement waiting; $(( n + 4 )) stored once each"
  stop_sim
  ;;
*)
  fail "unknown scenario $scenario"
  ;;
esac
echo "ok [$scenario]"
