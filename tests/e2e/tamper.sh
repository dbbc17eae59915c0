#!/usr/bin/env bash
# Records QA can trust: a real archive written by rigd against rigsim, then every change an
# attacker with write access to the data directory (or a failing disk) could make. Each must be
# detected by rigctl verify (exit 1) with the row, file or checkpoint named; rigd must refuse to
# continue a chain it cannot re-derive; a kill -9 at any point of a commit must recover.
# usage: tamper.sh BIN_DIR SOURCE_DIR SCENARIO
set -uo pipefail
bin=$1 src=$2 scenario=$3
source "$(dirname "$0")/lib.sh"

unlock="DROP TRIGGER certificates_no_update; DROP TRIGGER certificates_no_delete;
        DROP TRIGGER checkpoints_no_update; DROP TRIGGER checkpoints_no_delete;"

make_archive() {  # three certified units in $work/data, rigsim stopped
  population FPV5-000301 FPV5-000302 FPV5-000303
  start_sim
  rigd --units 3
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  stop_sim
  verify_all
}

# expect_verify NAME DATA_DIR REGEX [ARGS...]: verify --archive fails (exit 1) naming REGEX.
expect_verify() {
  local name=$1 d=$2 regex=$3
  shift 3
  "$bin/rigctl" --data "$d" verify --archive "$d/archive.sqlite" "$@" >"$d.out" 2>&1
  local code=$?
  [[ $code -eq 1 ]] || fail "$name: verify exit $code, want 1: $(tail -n 5 "$d.out")"
  grep -qE -- "$regex" "$d.out" || fail "$name: verify does not say /$regex/: $(cat "$d.out")"
  printf '| %s | %s |\n' "$name" "$(grep -E -- "$regex" "$d.out" | head -n 1 | sed "s|$work/||g")"
}

# tamper NAME SQL REGEX [ARGS...]: a copy of the data directory, changed with SQL, then verified.
tamper() {
  local name=$1 sql=$2 regex=$3
  shift 3
  local d="$work/t-$name"
  cp -a "$work/data" "$d"
  sqlite3 "$d/archive.sqlite" "$unlock $sql" || fail "$name: sqlite3 refused the change"
  expect_verify "$name" "$d" "$regex" "$@"
}

flip() {  # SQL expression: envelope with the character at offset $1 (from the start of $2) changed
  echo "substr(envelope, 1, instr(envelope, '$2') + $1 - 1) || (CASE substr(envelope, instr(envelope, '$2') + $1, 1) WHEN 'A' THEN 'B' ELSE 'A' END) || substr(envelope, instr(envelope, '$2') + $1 + 1)"
}

case "$scenario" in
tamper)
  make_archive
  cp "$work/data/checkpoints/sim-line1.checkpoint.json" "$work/qa.checkpoint.json"  # QA's copy, held elsewhere
  row() { echo "$work/t-$1/archive.sqlite#$2 \\(FPV5-00030$2\\)"; }
  echo "| change | rigctl verify says |"
  echo "|---|---|"
  tamper payload_byte "UPDATE certificates SET envelope = $(flip 120 '"payload":"') WHERE sequence = 2" "^BAD +$(row payload_byte 2) +signature by .* does not match the payload"
  tamper signature "UPDATE certificates SET envelope = $(flip 20 '"sig":"') WHERE sequence = 2" "^BAD +$(row signature 2) +signature by .* (does not match|is malformed)"
  tamper delete_first "DELETE FROM certificates WHERE sequence = 1" "^CHAIN station sim-line1: certificates 1\.\.1 are missing$"
  tamper delete_middle "DELETE FROM certificates WHERE sequence = 2" "^CHAIN station sim-line1: certificates 2\.\.2 are missing before $(row delete_middle 3)"
  tamper delete_last "DELETE FROM certificates WHERE sequence = 3; DELETE FROM checkpoints WHERE sequence = 3" \
    "^CHAIN station sim-line1: the archive ends at sequence 2 but checkpoint .* says sequence 3: certificates 3\.\.3 are missing"
  tamper delete_last_2 "DELETE FROM certificates WHERE sequence >= 2; DELETE FROM checkpoints WHERE sequence >= 2" \
    "the archive ends at sequence 1 but checkpoint .* says sequence 3: certificates 2\.\.3 are missing"
  tamper delete_all "DELETE FROM certificates; DELETE FROM checkpoints" "the archive ends at sequence 0 but checkpoint .*checkpoints/sim-line1\.checkpoint\.json"
  d="$work/t-delete_all_and_file"
  cp -a "$work/data" "$d"
  sqlite3 "$d/archive.sqlite" "$unlock DELETE FROM certificates; DELETE FROM checkpoints" && rm "$d/checkpoints/"*
  expect_verify delete_all_and_file "$d" "the archive ends at sequence 0 but checkpoint $work/qa\.checkpoint\.json" --checkpoint "$work/qa.checkpoint.json"
  for column in station:"'line9-9'" sequence:7 serial:"'FPV5-999999'" variant:"'fpv7-bf'" lot:"'LOT-X'" verdict:"'fail'" \
                created_at:"'2026-01-01T00:00:00.000Z'" sha256:"'$(printf '0%.0s' {1..64})'" previous_sha256:"'$(printf 'f%.0s' {1..64})'"; do
    name=${column%%:*}
    tamper "column_$name" "UPDATE certificates SET $name = ${column#*:} WHERE sequence = 2" "^ROW +$work/t-column_$name/archive\.sqlite#2 \([^)]*\): column '$name' is "
  done
  tamper swapped "UPDATE certificates SET envelope = (SELECT envelope FROM certificates c WHERE c.sequence = 3 - certificates.sequence) WHERE sequence IN (1, 2)" \
    "^ROW +$(row swapped 1): column 'sequence' is '1' but the signed payload says '2'"
  tamper reinserted "INSERT INTO certificates (station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, envelope)
      SELECT station, 4, serial, variant, lot, verdict, created_at, sha256 || 'x', previous_sha256, envelope FROM certificates WHERE sequence = 2" \
    "station sim-line1 sequence 2 comes after sequence 3 \\(.*#3 \\(FPV5-000303\\)\\): a second certificate for sequence 2"
  # Another station's key, trusted for its own station, signs a certificate claiming ours.
  "$bin/rigctl" --data "$work/other" keygen --station line2-1 >/dev/null || fail "keygen for line2-1 failed"
  d="$work/t-forged"
  cp -a "$work/data" "$d"
  cp "$work/other/trust/"*.pub "$d/trust/"
  forged=$(sqlite3 "$d/archive.sqlite" "SELECT envelope FROM certificates WHERE sequence = 3" | "$bin/forge" "$work/other/station.key" '"verdict":"pass"' '"verdict":"fail"') ||
    fail "forge failed"
  sqlite3 "$d/archive.sqlite" "$unlock UPDATE certificates SET envelope = '$forged' WHERE sequence = 3" || fail "sqlite3 refused"
  expect_verify forged_by_other_station "$d" "^BAD +$d/archive\.sqlite#3 \(FPV5-000303\) +key ed25519:[0-9a-f]+ is bound to station line2-1, not to station sim-line1"
  # Exported files: deleted, swapped, and a loose file that is not what its name says.
  d="$work/t-export_deleted"
  cp -a "$work/data" "$d"
  rm "$d/certificates/FPV5-000302-sim-line1-000002.dsse.json"
  expect_verify export_deleted "$d" "^FILE +$d/certificates/FPV5-000302-sim-line1-000002\.dsse\.json: missing \(the export of archive row #2\)"
  d="$work/t-export_swapped"
  cp -a "$work/data" "$d"
  mv "$d/certificates/FPV5-000301-sim-line1-000001.dsse.json" "$d/swap"
  mv "$d/certificates/FPV5-000302-sim-line1-000002.dsse.json" "$d/certificates/FPV5-000301-sim-line1-000001.dsse.json"
  mv "$d/swap" "$d/certificates/FPV5-000302-sim-line1-000002.dsse.json"
  expect_verify export_swapped "$d" "^FILE +$d/certificates/FPV5-000301-sim-line1-000001\.dsse\.json: differs from archive row #1"
  "$bin/rigctl" --data "$d" verify "$d/certificates/FPV5-000301-sim-line1-000001.dsse.json" >"$d.files.out" 2>&1 && fail "a swapped export verified as a file"
  grep -q "holds the certificate of FPV5-000302 station sim-line1 #2" "$d.files.out" || fail "verify FILE does not say the export is swapped: $(cat "$d.files.out")"
  d="$work/t-export_extra"
  cp -a "$work/data" "$d"
  cp "$d/certificates/FPV5-000302-sim-line1-000002.dsse.json" "$d/certificates/FPV5-000309-sim-line1-000009.dsse.json"
  expect_verify export_extra "$d" "^FILE +$d/certificates/FPV5-000309-sim-line1-000009\.dsse\.json: no archive row has this certificate$"
  grep -q "^FAILED: 0 of 3 certificates bad, 1 other problem$" "$d.out" || fail "export_extra: $(tail -n 1 "$d.out")"
  d="$work/t-checkpoint_edited"
  cp -a "$work/data" "$d"
  sed -i 's/"payload":"eyJ/"payload":"eyK/' "$d/checkpoints/sim-line1.checkpoint.json"
  expect_verify checkpoint_edited "$d" "^CHECKPOINT $d/checkpoints/sim-line1\.checkpoint\.json: "
  # rigctl verify only reads: the archive file is byte-identical afterwards, and works read-only.
  sum=$(sha256sum "$work/data/archive.sqlite")
  chmod -R a-w "$work/data"
  "$bin/rigctl" --data "$work/data" verify --archive "$work/data/archive.sqlite" >"$work/ro.out" 2>&1 || fail "verify on a read-only data directory failed: $(cat "$work/ro.out")"
  chmod -R u+w "$work/data"
  [[ "$(sha256sum "$work/data/archive.sqlite")" == "$sum" ]] || fail "verify changed the archive"
  # show checks the payload against the serial asked for.
  d="$work/t-show"
  cp -a "$work/data" "$d"
  sqlite3 "$d/archive.sqlite" "$unlock UPDATE certificates SET serial = 'FPV5-000306' WHERE sequence = 1" || fail "sqlite3 refused"
  "$bin/rigctl" --data "$d" show FPV5-000306 >"$d.out" 2>&1 && fail "show printed another unit's certificate with exit 0"
  grep -q "certificate 1 of FPV5-000306: NOT VALID: column 'serial' is 'FPV5-000306' but the signed payload says 'FPV5-000301'" "$d.out" ||
    fail "show does not say why: $(cat "$d.out")"
  "$bin/rigctl" --data "$d" list --verify >"$d.list" 2>&1 && fail "list --verify of a tampered archive exited 0"
  grep -qE "^ +1  NOT VALID: column 'serial'" "$d.list" || fail "list does not flag the row: $(cat "$d.list")"
  ;;
restart_refusals)
  make_archive
  sed 's|^port = "serial:.*/jig"|port = "serial:/dev/rig-absent-jig"|' "$work/sim/jig.toml" >"$work/absent.toml"
  restart() {  # restart DATA REGEX: rigd must stop at start-up with this message
    "$bin/rigd" --jig "$work/absent.toml" --variants "$src/fixtures/variants" --data "$1" >"$work/restart.out" 2>"$work/restart.err"
    local code=$?
    [[ $code -eq 2 ]] || fail "rigd on $1: exit $code, want 2"
    grep -qE -- "$2" "$work/restart.err" || fail "rigd on $1 does not say /$2/: $(cat "$work/restart.err")"
  }
  restart "$work/data" "cannot open /dev/rig-absent-jig"   # an intact archive gets as far as the jig
  d="$work/r-head"; cp -a "$work/data" "$d"
  sqlite3 "$d/archive.sqlite" "$unlock UPDATE certificates SET sha256 = '$(printf '0%.0s' {1..64})' WHERE sequence = 3"
  restart "$d" "archive\.sqlite row #3: column 'sha256' is '0+' but the signed payload says '[0-9a-f]{64}': the archive was changed outside rigd"
  d="$work/r-tail"; cp -a "$work/data" "$d"
  sqlite3 "$d/archive.sqlite" "$unlock DELETE FROM certificates WHERE sequence = 3; DELETE FROM checkpoints WHERE sequence = 3"
  restart "$d" "checkpoint signed .* says station sim-line1 reached sequence 3, but the archive ends at 2: certificates 3\.\.3 are missing"
  d="$work/r-foreign"; cp -a "$work/data" "$d"
  "$bin/rigctl" --data "$work/other" keygen --station line2-1 >/dev/null
  rm "$d/trust/"*.pub && cp "$work/other/trust/"*.pub "$d/trust/"
  restart "$d" "station key refused by .*: signature by untrusted key ed25519:"
  d="$work/r-mode"; cp -a "$work/data" "$d"
  chmod 644 "$d/station.key"
  restart "$d" "station\.key: mode 0644 lets others read the station's secret key"
  # Two rigd on one data directory: the second names the first's pid.
  population FPV5-000311
  start_sim
  rigd_bg --units 0
  for _ in $(seq 100); do grep -q 'event=ready' "$work/rigd.err" 2>/dev/null && break; sleep 0.05; done
  restart "$work/data" "data directory $work/data: in use by another rigd \(pid $rigd_pid, lock $work/data/rigd\.lock\)"
  kill -TERM "$rigd_pid"; wait "$rigd_pid"; rigd_pid=""
  stop_sim
  ;;
crash_recovery)
  # kill -9 at each point of certifying a unit; the restarted rigd recovers and all verifies.
  population FPV5-000321 FPV5-000322 FPV5-000323 FPV5-000324
  start_sim
  RIG_CRASH_AT=after_binding "$bin/rigd" --jig "$work/sim/jig.toml" --variants "$src/fixtures/variants" --data "$work/data" --units 1 \
    >"$work/rigd.out" 2>"$work/rigd.err"
  [[ $? -eq 137 ]] || fail "rigd did not die at after_binding"
  [[ ! -e "$work/data/station.key" ]] || fail "a secret key exists without a completed key creation"
  # after_commit: durable, nothing else written, no verdict shown yet; then a kill while the
  # certificate file (a copy, written after the verdict may be shown) is written.
  for point in after_commit before_rename:FPV5-000321-sim-line1-000002; do
    RIG_CRASH_AT=$point "$bin/rigd" --jig "$work/sim/jig.toml" --variants "$src/fixtures/variants" --data "$work/data" --units 1 \
      >"$work/rigd.out" 2>"$work/rigd.err"
    [[ $? -eq 137 ]] || fail "rigd did not die at $point: $(tail -n 3 "$work/rigd.err")"
    [[ $point == after_commit ]] && grep -qE '^unit .* (PASS|FAIL)' "$work/rigd.out" && fail "a verdict was shown before the crash at $point"
    sleep 0.5  # DUT power was off before the commit; the unit stays in the jig and is tested again
  done
  ls -A "$work/data/certificates" | grep -q '\.tmp-' || fail "the kill during export left no temporary file (did it happen?)"
  # The third run re-exported certificate 1 at start; certificate 2's export was cut by the kill.
  [[ "$(cd "$work/data/certificates" && ls *.dsse.json)" == "FPV5-000321-sim-line1-000001.dsse.json" ]] ||
    fail "exports after the crashes: $(ls "$work/data/certificates")"
  rigd --units 2
  [[ $rc -eq 0 ]] || fail "rigd after the crashes: exit $rc"
  expect_err 'event=reexported file=.*-000002\.dsse\.json reason=missing'
  leftovers=$(ls -A "$work/data/certificates" "$work/data/checkpoints" | grep '\.tmp-')
  [[ -z "$leftovers" ]] || fail "temporary files left: $leftovers"
  verify_all
  [[ $(ls "$work/data/certificates/"*.dsse.json | wc -l) -eq 4 ]] || fail "want 4 certificates after recovery"
  stop_sim
  ;;
export_full)
  # certificates/ on a full filesystem: the unit is certified (the archive is durable), the
  # failed export is said loudly, rigd exits 4, and the next start re-exports the file.
  mkdir -p "$work/data/certificates"
  if ! mount -t tmpfs -o size=64k tmpfs "$work/data/certificates" 2>/dev/null; then
    echo "SKIPPED [export_full]: cannot mount a tmpfs here"
    exit 77
  fi
  umount_certs() { umount "$work/data/certificates" 2>/dev/null || true; }
  trap 'umount_certs; cleanup' EXIT
  dd if=/dev/zero of="$work/data/certificates/filler" bs=4k count=64 2>/dev/null
  population FPV5-000331 FPV5-000332
  start_sim
  rigd --units 1
  [[ $rc -eq 4 ]] || fail "rigd exit $rc with exports failing, want 4"
  expect_out '^unit FPV5-000331 +PASS'
  expect_out 'WARNING: certificate committed, but its file copy failed \(will retry\): .*No space left on device'
  expect_err 'rigd: certificate files not exported \(the archive holds them; rigd re-exports at next start\)'
  [[ -z "$(ls "$work/data/certificates/" | grep -v filler)" ]] || fail "a partial certificate file was left: $(ls -la "$work/data/certificates")"
  rm "$work/data/certificates/filler"
  rigd --units 1
  [[ $rc -eq 0 ]] || fail "rigd exit $rc after space was freed"
  expect_err 'event=reexported file=.*FPV5-000331-sim-line1-000001\.dsse\.json reason=missing'
  verify_all
  stop_sim
  ;;
port_locked)
  # Two stations (two data directories) on one jig: the second is refused, naming the first.
  population FPV5-000341
  start_sim
  rigd_bg --units 0
  for _ in $(seq 100); do grep -q 'event=ready' "$work/rigd.err" 2>/dev/null && break; sleep 0.05; done
  "$bin/rigd" --jig "$work/sim/jig.toml" --variants "$src/fixtures/variants" --data "$work/data2" --units 1 >"$work/second.out" 2>"$work/second.err"
  code=$?
  [[ $code -eq 2 ]] || fail "a second rigd on the same jig port: exit $code, want 2"
  grep -qE "^rigd: serial:$work/sim/jig: in use by another process \(pid ([0-9]+, )*$rigd_pid(, [0-9]+)*\)$" "$work/second.err" ||
    fail "the refusal does not name the port and the holder: $(cat "$work/second.err")"
  kill -TERM "$rigd_pid"; wait "$rigd_pid"; rigd_pid=""
  stop_sim
  ;;
*)
  fail "unknown scenario"
  ;;
esac
echo "PASS [$scenario]"
