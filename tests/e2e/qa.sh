#!/usr/bin/env bash
# QA on a real archive (rigd against rigsim): export bundles verified in a clean directory with
# only a root key, every way of spoiling one caught with the file named; certificates as HTML;
# statistics; the exit codes rigctl documents.
# usage: qa.sh BIN_DIR SOURCE_DIR SCENARIO
set -uo pipefail
bin=$1 src=$2 scenario=$3
source "$(dirname "$0")/lib.sh"

rigctl() { "$bin/rigctl" --data "$work/data" "$@"; }

make_archive() {  # four units of LOT-E2E, one with a weak motor 3
  population FPV5-000401 FPV5-000402 FPV5-000403=weak_motor:3 FPV5-000404
  start_sim
  rigd --units 4
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  stop_sim
  verify_all
}

# rebundle FROM TO CHANGE: unpacks a bundle, runs CHANGE in its directory, packs it in the same
# order (what someone with the file and no key can do).
rebundle() {
  local from=$1 to=$2 change=$3 dir="$work/unpacked"
  rm -rf "$dir" && mkdir -p "$dir"
  tar xzf "$from" -C "$dir" || fail "cannot unpack $from"
  local order
  order=$(tar tzf "$from")
  (cd "$dir" && eval "$change") || fail "change failed: $change"
  # shellcheck disable=SC2086  # the bundle's own entry names, one per line
  (cd "$dir" && tar czf "$to" $(for f in $order; do [[ -e $f ]] && echo "$f"; done))
}

case $scenario in
bundle)
  make_archive
  expect_rc 0 'generated root key qa' rigctl keygen --root qa --out "$work/qa"
  expect_rc 0 'endorsed .*sim-line1-.*\.pub .*with root' rigctl endorse --key "$work/qa/qa.root.key"
  expect_rc 0 "exported 4 certificates of 1 station \(sim-line1\) to $work/lot\.tar\.gz: [0-9]+ bytes, 1 key binding, 1 checkpoint; manifest signed by root qa" \
    rigctl export --lot LOT-E2E -o "$work/lot.tar.gz" --key "$work/qa/qa.root.key"
  # A clean directory with the bundle and the root's public key, nothing else.
  mkdir -p "$work/clean" && cp "$work/lot.tar.gz" "$work/qa/qa.root.pub" "$work/clean/"
  cd "$work/clean" || fail "no clean directory"
  expect_rc 0 '^verified 4 certificates$' "$bin/rigctl" --data "$work/clean/no-data" verify --trust qa.root.pub lot.tar.gz
  grep -q '^bundle lot.tar.gz: 10 files, 4 certificates, exported .* manifest signed by root qa' "$work/cmd.out" || fail "no bundle summary: $(cat "$work/cmd.out")"
  expect_rc 0 '"ok":true,"certificates":4,"bad":0,' "$bin/rigctl" --data no-data verify --trust qa.root.pub lot.tar.gz --json
  [[ "$(ls -A "$work/clean")" == "$(printf 'lot.tar.gz\nqa.root.pub')" ]] || fail "verify wrote into the clean directory: $(ls -A)"
  # Without the root (only another root), nothing in it is trusted.
  "$bin/rigctl" keygen --root other --out "$work/other" >/dev/null
  expect_rc 1 'manifest.dsse.json: signature by untrusted key' "$bin/rigctl" --data no-data verify --trust "$work/other/other.root.pub" lot.tar.gz
  # One changed byte in a certificate; a certificate removed; the bundle cut short.
  cert=certificates/FPV5-000402-sim-line1-000002.dsse.json
  # (the signature's first character made another: 'A' becomes 'B', anything else 'A')
  rebundle lot.tar.gz "$work/clean/edited.tar.gz" "sed -i 's/\"sig\":\"A/\"sig\":\"B/; t; s/\"sig\":\"./\"sig\":\"A/' $cert"
  expect_rc 1 "^FILE +edited\.tar\.gz: $cert: changed: sha256 " "$bin/rigctl" --data no-data verify --trust qa.root.pub edited.tar.gz
  grep -qE "^BAD +$cert +signature by ed25519:[0-9a-f]+ (does not match the payload|is malformed)" "$work/cmd.out" || fail "the edited certificate is not BAD: $(cat "$work/cmd.out")"
  rebundle lot.tar.gz "$work/clean/removed.tar.gz" "rm $cert"
  expect_rc 1 "^FILE +removed\.tar\.gz: $cert: missing from the bundle \(the signed manifest lists it\)" \
    "$bin/rigctl" --data no-data verify --trust qa.root.pub removed.tar.gz
  head -c $(( $(stat -c %s lot.tar.gz) / 2 )) lot.tar.gz >cut.tar.gz
  # libarchive's gzip reader reads ahead, so where it stops depends on its buffer: either is fine.
  expect_rc 1 '^FILE +cut\.tar\.gz: damaged or truncated bundle \((at its start|reading .*)\): truncated gzip input' \
    "$bin/rigctl" --data no-data verify --trust qa.root.pub cut.tar.gz
  # An uncompressed bundle cut inside its third certificate names the entry it was reading.
  (cd "$work" && rigctl export --lot LOT-E2E -o "$work/clean/lot.tar" >/dev/null) || fail "no plain tar export"
  head -c 28000 lot.tar >cut.tar
  expect_rc 1 "^FILE +cut\.tar: damaged or truncated bundle \(reading 'certificates/FPV5-000403-sim-line1-000003\.dsse\.json' after 'certificates/FPV5-000402-sim-line1-000002\.dsse\.json'\)" \
    "$bin/rigctl" --data no-data verify --trust qa.root.pub cut.tar
  cd "$work" || fail "no work directory"
  # Every compression, and a bundle signed by the station's own key (its binding endorsed).
  for ext in tar tar.xz tar.zst tgz; do
    expect_rc 0 "exported 1 certificate of 1 station .*manifest signed by station sim-line1" rigctl export --serial FPV5-000403 -o "$work/one.$ext"
    expect_rc 0 '^verified 1 certificate$' "$bin/rigctl" verify --trust "$work/qa/qa.root.pub" "$work/one.$ext"
  done
  # Nothing selected: exit 3 and no file; a selection is required; a bad name is bad input.
  expect_rc 3 "no certificate in $work/data/archive\.sqlite matches the selection; no bundle written" rigctl export --lot NOPE -o "$work/none.tar"
  [[ ! -e "$work/none.tar" ]] || fail "an empty export left a file"
  [[ -z "$(ls -A "$work" | grep '\.tmp-')" ]] || fail "a temporary bundle was left: $(ls -A "$work")"
  expect_rc 2 '^rigctl: export: select with --lot, --serial, --variant or --since' rigctl export -o "$work/all.tar"
  expect_rc 2 "^rigctl: $work/x\.zip: a bundle's name ends in \.tar, \.tar\.gz, \.tgz, \.tar\.xz or \.tar\.zst" rigctl export --lot LOT-E2E -o "$work/x.zip"
  # A tampered archive exports nothing.
  cp -r "$work/data" "$work/bad"
  sqlite3 "$work/bad/archive.sqlite" "DROP TRIGGER certificates_no_update; UPDATE certificates SET lot='LOT-E2E' WHERE id=2; UPDATE certificates SET verdict='pass' WHERE id=3;"
  expect_rc 1 "export refused: 1 selected certificate did not verify; no bundle written" "$bin/rigctl" --data "$work/bad" export --lot LOT-E2E -o "$work/bad.tar"
  grep -q "NOT VALID $work/bad/archive.sqlite#3 (FPV5-000403): column 'verdict' is 'pass' but the signed payload says 'fail'" "$work/cmd.out" || fail "the bad row is not named: $(cat "$work/cmd.out")"
  [[ ! -e "$work/bad.tar" ]] || fail "a refused export left a file"
  ;;
show_stats)
  make_archive
  expect_rc 0 'class="verdict v-fail">FAIL</div>' rigctl show FPV5-000403 --html
  [[ $(grep -o '<svg class="band"' "$work/cmd.out" | wc -l) -ge 20 ]] || fail "too few band charts: $(grep -o '<svg class="band"' "$work/cmd.out" | wc -l)"
  grep -qE 'data-measurement="motor3.rpm" data-value="[0-9.]+" data-min="8500" data-max="11500" data-verdict="fail"' "$work/cmd.out" ||
    fail "no failing motor 3 chart"
  expect_rc 0 'wrote' bash -c "'$bin/rigctl' --data '$work/data' show FPV5-000401 --html -o '$work/401.html' && echo wrote"
  grep -q 'class="verdict v-pass">PASS</div>' "$work/401.html" || fail "show --html -o wrote no PASS page"
  expect_rc 0 '"certificate":\{"schema":"rig.certificate/v1"' rigctl show FPV5-000401 --json
  expect_rc 3 "^rigctl: no certificate for serial 'FPV5-999999' in $work/data/archive\.sqlite$" rigctl show FPV5-999999
  expect_rc 0 '^4 certificates \(the archive.s index' rigctl list --lot LOT-E2E
  expect_rc 0 '^4 certificates, each verified against its signature$' rigctl list --lot LOT-E2E --verify
  expect_rc 0 '"count":1,"verified":false' rigctl list --verdict fail --json
  expect_rc 0 '^all +4 +4 +3 +75\.0 % +3 +75\.0 %$' rigctl stats --lot LOT-E2E
  grep -qE '^  motors / motor3.rpm +1 +' "$work/cmd.out" || fail "no Pareto entry for motor 3: $(cat "$work/cmd.out")"
  expect_rc 0 '"total":\{"key":"all","units":4,"tests":4,"first_pass":3,"fpy":7.5E-1' rigctl stats --json
  expect_rc 0 "wrote $work/stats.html: 4 certificates of 4 units" rigctl stats --html "$work/stats.html"
  grep -q '<svg class="control"' "$work/stats.html" || fail "no control chart in the stats page"
  expect_rc 3 "^rigctl: no certificate in $work/data/archive\.sqlite matches \(lot NOPE\)$" rigctl stats --lot NOPE
  # verify --archive streams: JSON that parses, --brief with only the summary of a good archive.
  expect_rc 0 '^verified 4 certificates$' rigctl verify --archive "$work/data/archive.sqlite" --brief
  [[ $(wc -l <"$work/cmd.out") -eq 2 ]] || fail "verify --brief printed more than a note and the summary: $(cat "$work/cmd.out")"
  expect_rc 0 '"ok":true' rigctl verify --archive "$work/data/archive.sqlite" --json
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] and r["certificates"] == 4 and len(r["items"]) == 4 and r["problems_not_listed"] == 0, r' \
    "$work/cmd.out" || fail "verify --json is not the report: $(cat "$work/cmd.out")"
  cp -r "$work/data" "$work/bad"
  sqlite3 "$work/bad/archive.sqlite" "DROP TRIGGER certificates_no_update; UPDATE certificates SET verdict='pass' WHERE id=3;"
  expect_rc 1 "^ROW +$work/bad/archive\.sqlite#3 \(FPV5-000403\): column 'verdict' is 'pass'" "$bin/rigctl" --data "$work/bad" verify --archive "$work/bad/archive.sqlite" --brief
  ! grep -q '^OK ' "$work/cmd.out" || fail "verify --brief listed good certificates"
  expect_rc 1 '"ok":false' "$bin/rigctl" --data "$work/bad" verify --archive "$work/bad/archive.sqlite" --json
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert not r["ok"] and len(r["row_problems"]) == 1 and len(r["items"]) == 4, r' \
    "$work/cmd.out" || fail "verify --json of a bad archive: $(cat "$work/cmd.out")"
  # FPV5-000403 repaired and retested: 4 units, 5 tests, first pass 3, final pass 4; by its
  # first certificate, its retest is the unit's last and not its first.
  population FPV5-000403
  start_sim
  rigd --units 1
  [[ $rc -eq 0 ]] || fail "retest: rigd exit $rc"
  stop_sim
  expect_rc 0 '^all +4 +5 +3 +75\.0 % +4 +100\.0 %$' rigctl stats --lot LOT-E2E
  grep -q '(1 retests)' "$work/cmd.out" || fail "the retest is not counted: $(head -n 1 "$work/cmd.out")"
  expect_rc 0 '"total":\{"key":"all","units":4,"tests":5,"first_pass":3,"fpy":7\.5E-1,"final_pass":4,"yield":1E0' rigctl stats --json
  expect_rc 0 '^all +1 +1 +1 +100\.0 % +1 +100\.0 %$' rigctl stats --serial FPV5-000403 --verdict pass
  expect_rc 0 'exit codes: 0 ok, 1 verification failed, 2 bad input, 3 not found, 4 archive or output I/O error' rigctl --help
  ;;
*)
  fail "unknown scenario $scenario"
  ;;
esac
echo "ok [$scenario]"
