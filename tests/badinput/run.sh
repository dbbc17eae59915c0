#!/usr/bin/env bash
# The bad-input suite: every case is one bad plan file, jig file, population, command line or
# certificate file, and must give exactly one clear line naming the file, line, key or argument
# at fault, a non-zero exit below 128 (no crash), and write nothing. expected.tsv holds, per case,
# the exit code and that line ($D stands for the case directory).
# usage: run.sh BIN_DIR SOURCE_DIR [--update]     (--update rewrites expected.tsv: review the diff)
set -uo pipefail
bin=$1 src=$2 update=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/rig-badinput.XXXXXX")
trap '[[ -z "${KEEP:-}" ]] && rm -rf "$D"' EXIT
actual="$D/actual.tsv"
: >"$actual"
failures=0
sid=0 pid=0 keyid=""
n=0

# record NAME EXIT_CODE OUTPUT_FILE: the one line that names the problem.
record() {
  local line
  line=$(grep -vE '^(FAILED: |Run with --help|verified )' "$3" | grep -E '^(rigd|rigctl|rigsim|BAD|ROW|CHAIN|FILE|CHECKPOINT|[^ ].*: )' | head -n 1)
  [[ -n "$line" ]] || line=$(head -n 1 "$3")
  [[ -n "${keyid:-}" ]] && line=${line//$keyid/\$KEYID}  # the generated key's id differs per run
  printf '%s\t%s\t%s\n' "$1" "$2" "${line//$D/\$D}" >>"$actual"
  n=$((n + 1))
  if (($2 == 0 || $2 >= 128)); then echo "CASE $1: exit $2 (want a clean non-zero exit)"; failures=$((failures + 1)); fi
}

run() {  # run NAME CMD... (stdout and stderr together)
  local name=$1
  shift
  timeout 30 "$@" >"$D/out" 2>&1  # a case that is wrongly accepted must not hang the suite
  record "$name" $? "$D/out"
}

# --- plan files: a good standalone plan, one line changed per case --------------------------
mkdir -p "$D/variants"
cat >"$D/plan.template" <<'TOML'
id = "v"
sequence = ["idle", "motors"]

[steps.idle]
kind = "power.idle_current"
timeout_ms = 5000
params = { settle_ms = 300, samples = 5 }
[steps.idle.limits]
current = { min = 0.10, max = 0.60, unit = "A" }

[steps.motors]
kind = "motors.spin"
params = { motors = 4, throttle_pct = 30, spin_up_ms = 700, samples = 5 }
[steps.motors.limits]
rpm = { min = 8500, max = 11500, unit = "rpm" }
rpm_spread = { max = 8.0 }
TOML
cat >"$D/jig.toml" <<'TOML'
[station]
id = "line1-3"
fixture_id = "JIG-0042"
calibration_due = "2099-06-30"
variant = "v"
lot = "LOT-1"

[devices.jig]
port = "serial:/dev/rig-absent-jig"

[devices.fc]
port = "serial:/dev/rig-absent-fc"
protocol = "msp"
TOML

rigd_plan() {  # rigd_plan NAME: runs rigd on variants/v.toml; it must write nothing
  "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-$1" --units 1 >"$D/out" 2>&1
  record "$1" $? "$D/out"
  [[ ! -e "$D/data-$1" ]] || { echo "CASE $1: rigd wrote $D/data-$1 for a bad plan"; failures=$((failures + 1)); }
}
plan_case() {  # plan_case NAME SED_EXPRESSION
  sed "$2" "$D/plan.template" >"$D/variants/v.toml"
  rigd_plan "$1"
}
limit_values=(nan inf -inf 1e308 -1e308 1e13 '"0.1"' true '[0.1]' '{ x = 1 }')
for i in "${!limit_values[@]}"; do
  v=${limit_values[$i]}
  plan_case "plan_current_min_$i" "s|current = { min = 0.10,|current = { min = $v,|"
  plan_case "plan_current_max_$i" "s|max = 0.60, unit|max = $v, unit|"
  plan_case "plan_rpm_equals_$i" "s|rpm = { min = 8500, max = 11500, unit = \"rpm\" }|rpm = { equals = $v }|"
done
for v in 0 -1 1.5 nan inf 1e308 '"5000"' true 3600001 '[1]'; do
  plan_case "plan_timeout_ms_${v//[^a-z0-9.-]/_}" "s|timeout_ms = 5000|timeout_ms = $v|"
done
for v in 0 1001 2.5 nan inf -inf '"5"' true 1e308; do
  plan_case "plan_samples_${v//[^a-z0-9.-]/_}" "s|settle_ms = 300, samples = 5 }|settle_ms = 300, samples = $v }|"
done
for v in -1 60001 0.5 nan; do plan_case "plan_settle_ms_$v" "s|settle_ms = 300|settle_ms = $v|"; done
for v in 0 9 2.5 '"4"'; do plan_case "plan_motors_${v//[^a-z0-9.-]/_}" "s|motors = 4,|motors = $v,|"; done
for v in 0 101 nan -5; do plan_case "plan_throttle_$v" "s|throttle_pct = 30|throttle_pct = $v|"; done
for v in 30001 1.5; do plan_case "plan_spin_up_$v" "s|spin_up_ms = 700|spin_up_ms = $v|"; done
plan_case plan_typo_top 's|^sequence =|sequnce =|'
plan_case plan_typo_description 's|^id = "v"|id = "v"\ndescription = 1|'
plan_case plan_bad_serial_regex 's|^id = "v"|id = "v"\nserial_regex = "[FPV"|'
plan_case plan_typo_kind 's|^kind = "power.idle_current"|kindd = "power.idle_current"|'
plan_case plan_typo_timeout 's|^timeout_ms = 5000|timout_ms = 5000|'
plan_case plan_typo_params 's|^params = { settle_ms|param = { settle_ms|'
plan_case plan_typo_limits 's|^\[steps.idle.limits\]|[steps.idle.limit]|'
plan_case plan_typo_limit_key 's|^current = |crrent = |'
plan_case plan_typo_min 's|current = { min = 0.10|current = { mn = 0.10|'
plan_case plan_unit_mismatch 's|unit = "A" }|unit = "V" }|'
plan_case plan_min_and_equals 's|current = { min = 0.10,|current = { equals = 1, min = 0.10,|'
plan_case plan_empty_limit 's|^current = .*|current = {}|'
plan_case plan_min_above_max 's|min = 0.10, max = 0.60|min = 0.70, max = 0.60|'
plan_case plan_regex_on_numeric 's|^current = .*|current = { regex = "^1" }|'
plan_case plan_limit_not_table 's|^current = .*|current = 5|'
plan_case plan_bad_limit_regex 's|rpm = { min = 8500, max = 11500, unit = "rpm" }|rpm = { regex = "(" }|'
plan_case plan_missing_id 's|^id = "v"||'
plan_case plan_missing_sequence 's|^sequence = .*||'
plan_case plan_missing_steps 's|^\[steps\.|[stepz.|'
plan_case plan_sequence_not_array 's|^sequence = .*|sequence = "idle"|'
plan_case plan_sequence_number 's|^sequence = .*|sequence = ["idle", 5]|'
plan_case plan_sequence_duplicate 's|^sequence = .*|sequence = ["idle", "motors", "idle"]|'
plan_case plan_sequence_unknown 's|^sequence = .*|sequence = ["idle", "motor"]|'
plan_case plan_not_sequenced 's|^sequence = .*|sequence = ["idle"]|'
plan_case plan_empty_sequence 's|^sequence = .*|sequence = []|'
plan_case plan_unknown_kind 's|^kind = "motors.spin"|kind = "motor.spin"|'
plan_case plan_kind_number 's|^kind = "motors.spin"|kind = 5|'
plan_case plan_params_not_table 's|^params = { motors.*|params = 5|'
plan_case plan_unknown_param 's|motors = 4,|motorz = 4,|'
plan_case plan_toml_unterminated 's|^id = "v"|id = "v|'
plan_case plan_toml_duplicate 's|^id = "v"|id = "v"\nid = "w"|'
plan_case plan_toml_bad_value 's|timeout_ms = 5000|timeout_ms = 5000ms|'
plan_case plan_id_mismatch 's|^id = "v"|id = "w"|'
# extends
cp "$D/plan.template" "$D/variants/base.toml"
sed -i 's|^id = "v"|id = "base"|' "$D/variants/base.toml"
ext_case() {  # ext_case NAME VARIANT_TEXT
  printf '%b' "$2" >"$D/variants/v.toml"
  rigd_plan "$1"
}
ext_case extends_missing 'extends = "nope.toml"\nid = "v"\n'
ext_case extends_self 'extends = "v.toml"\nid = "v"\n'
ext_case extends_number 'extends = 5\nid = "v"\n'
ext_case extends_directory 'extends = "."\nid = "v"\n'
ext_case extends_error_in_variant 'extends = "base.toml"\nid = "v"\n\n[steps.idle.limits]\ncurrent = { min = nan }\n'
ext_case extends_typo_in_variant 'extends = "base.toml"\nid = "v"\n[steps.motors]\nparams = { motorz = 4 }\n'
sed -i 's|settle_ms = 300|settle_ms = -5|' "$D/variants/base.toml"
ext_case extends_error_in_base 'extends = "base.toml"\nid = "v"\n'
printf 'extends = "b.toml"\nid = "a"\n' >"$D/variants/a.toml"
printf 'extends = "a.toml"\nid = "b"\n' >"$D/variants/b.toml"
ext_case extends_cycle 'extends = "a.toml"\nid = "v"\n'
for i in $(seq 1 20); do printf 'extends = "c%d.toml"\nid = "c%d"\n' $((i + 1)) "$i" >"$D/variants/c$i.toml"; done
ext_case extends_too_deep 'extends = "c1.toml"\nid = "v"\n'
rm -f "$D/variants/v.toml"
mkdir "$D/variants/v.toml"
rigd_plan plan_file_is_directory
rmdir "$D/variants/v.toml"
cp "$D/plan.template" "$D/variants/v.toml"

# --- jig files ------------------------------------------------------------------------------
jig_case() {  # jig_case NAME SED_EXPRESSION
  sed "$2" "$D/jig.toml" >"$D/bad-jig.toml"
  "$bin/rigd" --jig "$D/bad-jig.toml" --variants "$D/variants" --data "$D/data-$1" >"$D/out" 2>&1
  record "$1" $? "$D/out"
  [[ ! -e "$D/data-$1" ]] || { echo "CASE $1: rigd wrote $D/data-$1 for a bad jig file"; failures=$((failures + 1)); }
}
jig_case jig_typo_lot 's|^lot =|lott =|'
jig_case jig_typo_protocol 's|^protocol =|protocl =|'
jig_case jig_typo_station 's|^\[station\]|[stationn]|'
jig_case jig_typo_devices 's|^\[devices.fc\]|[devices.fcc]|'
jig_case jig_typo_jig_key 's|^port = "serial:/dev/rig-absent-jig"|prot = "serial:/dev/rig-absent-jig"|'
for key in id fixture_id calibration_due variant; do jig_case "jig_missing_$key" "s|^$key = .*||"; done
jig_case jig_missing_fc_port 's|^port = "serial:/dev/rig-absent-fc"||'
for v in '"../x"' '"a b"' '""' "\"$(printf 'x%.0s' {1..65})\"" '"x\\n unit FAKE PASS"' '"-x"' '5'; do
  jig_case "jig_station_id_$((++sid))" "s|^id = .*|id = $v|"
done
jig_case jig_fixture_id_bad 's|^fixture_id = .*|fixture_id = "JIG/42"|'
jig_case jig_lot_bad 's|^lot = .*|lot = "LOT 1"|'
jig_case jig_variant_bad 's|^variant = .*|variant = "../v"|'
for v in 2027-13-45 2027-02-30 2027-6-1 'next june' 20270630 2027-00-10 2025-02-29; do
  jig_case "jig_date_${v// /_}" "s|^calibration_due = .*|calibration_due = \"$v\"|"
done
jig_case jig_date_toml_date 's|^calibration_due = .*|calibration_due = 2027-06-30|'
jig_case jig_date_expired 's|^calibration_due = .*|calibration_due = "2020-01-31"|'
for v in '/dev/ttyACM0' 'ftp:x' 'serial:' 'serial:/dev/x?baud=0' 'serial:/dev/x?baud=fast' 'serial:/dev/x?parity=none' \
         'tcp:localhost' 'tcp:localhost:0' 'tcp:localhost:70000' 'usb-serial:483:5740' 'usb-serial:0483' \
         'usbtmc:2a8d:1602' 'usbtmc:2a8d' 'usbtmc:2a8d:16g2' 'usbtmc:2a8d:1602:'; do
  jig_case "jig_port_$((++pid))" "s|^port = \"serial:/dev/rig-absent-jig\"|port = \"$v\"|"
done
jig_case jig_protocol_unknown 's|^protocol = .*|protocol = "uavcan"|'
jig_case jig_acc_1g_zero 's|^protocol = .*|protocol = "msp"\nacc_1g = 0|'
jig_case jig_gyro_scale_text 's|^protocol = .*|protocol = "msp"\ngyro_counts_per_dps = "16.4"|'
jig_case jig_radio_protocol_unknown 's|^protocol = .*|protocol = "msp"\n[devices.radio]\nport = "serial:/dev/rig-absent-radio"\nprotocol = "sbus"|'
jig_case jig_radio_without_port 's|^protocol = .*|protocol = "msp"\n[devices.radio]\nprotocol = "crsf"|'
jig_case jig_radio_bad_port 's|^protocol = .*|protocol = "msp"\n[devices.radio]\nport = "/dev/ttyUSB0"|'
cp "$src/fixtures/variants/interceptor-"*.toml "$D/variants/"
jig_case jig_no_radio_for_radio_steps 's|^variant = .*|variant = "interceptor-ap"|'
jig_case jig_radio_typo 's|^protocol = .*|protocol = "msp"\n[devices.radio]\nport = "serial:/dev/x"\nbaud = 420000|'
jig_case jig_can_node_id_bad 's|^protocol = .*|protocol = "msp"\n[devices.can]\nport = "slcan:/dev/x"\nnode_id = 126|'
jig_case jig_can_bad_port 's|^protocol = .*|protocol = "msp"\n[devices.can]\nport = "can0"|'
jig_case jig_can_bad_bitrate 's|^protocol = .*|protocol = "msp"\n[devices.can]\nport = "slcan:/dev/x?bitrate=2000000"|'
jig_case jig_can_protocol_unknown 's|^protocol = .*|protocol = "msp"\n[devices.can]\nport = "socketcan:can0"\nprotocol = "j1939"|'
jig_case jig_scanner_unknown 's|^lot = \(.*\)|lot = \1\nscanner = "wedge"|'
jig_case jig_scanner_evdev_relative 's|^lot = \(.*\)|lot = \1\nscanner = "evdev:input/event3"|'
jig_case jig_scanner_usbtmc 's|^lot = \(.*\)|lot = \1\nscanner = "usbtmc:0957:1798"|'
jig_case jig_scanner_shared 's|^lot = \(.*\)|lot = \1\nscanner = "serial:/dev/rig-absent-jig?baud=9600"|'
jig_case jig_scanner_bad_baud 's|^lot = \(.*\)|lot = \1\nscanner = "serial:/dev/ttyACM0?baud=fast"|'
jig_case jig_can_without_port 's|^protocol = .*|protocol = "msp"\n[devices.can]\nnode_id = 100|'
cp "$src/fixtures/variants/canesc-ap.toml" "$D/variants/"
jig_case jig_no_can_for_can_steps 's|^variant = .*|variant = "canesc-ap"|'
# [instruments.NAME]: bench instruments (appended after the FC's protocol line)
inst() { jig_case "$1" "s|^protocol = .*|protocol = \"msp\"\n$2|"; }
inst jig_instrument_select_control '[instruments.rf]\ntype = "rf_power_meter"\nport = "tcp:127.0.0.1:5025"\nmodel = "U2002H"\ncalibration_due = "2099-05-31"\nselect = "ROUT:CLOS (@1)\\n*RST"'
inst jig_instrument_lock_timeout_low '[instruments.rf]\ntype = "rf_power_meter"\nport = "tcp:127.0.0.1:5025"\nmodel = "U2002H"\ncalibration_due = "2099-05-31"\nlock_timeout_ms = 5'
inst jig_instrument_type_unknown '[instruments.scope]\ntype = "oscilloscope"\nport = "tcp:127.0.0.1:5025"'
inst jig_instrument_no_model '[instruments.psu]\ntype = "psu"\nport = "tcp:127.0.0.1:5025"\ncalibration_due = "2099-01-31"'
inst jig_instrument_key_of_other_type '[instruments.psu]\ntype = "psu"\nport = "tcp:127.0.0.1:5025"\nmodel = "E36103B"\ncalibration_due = "2099-01-31"\nvoltage = 16.8\ncurrent_limit = 10\noffset_db = 30'
inst jig_instrument_voltage_missing '[instruments.psu]\ntype = "psu"\nport = "tcp:127.0.0.1:5025"\nmodel = "E36103B"\ncalibration_due = "2099-01-31"\ncurrent_limit = 10'
inst jig_instrument_voltage_text '[instruments.psu]\ntype = "psu"\nport = "tcp:127.0.0.1:5025"\nmodel = "E36103B"\ncalibration_due = "2099-01-31"\nvoltage = 16.8\ncurrent_limit = 10\novp = "18"'
inst jig_instrument_ovp_below '[instruments.psu]\ntype = "psu"\nport = "tcp:127.0.0.1:5025"\nmodel = "E36103B"\ncalibration_due = "2099-01-31"\nvoltage = 16.8\ncurrent_limit = 10\novp = 12'
inst jig_instrument_bad_port '[instruments.psu]\ntype = "psu"\nport = "gpib:5"\nmodel = "E36103B"\ncalibration_due = "2099-01-31"\nvoltage = 16.8\ncurrent_limit = 10'
inst jig_instrument_usbtmc_bad_pid '[instruments.rf]\ntype = "rf_power_meter"\nport = "usbtmc:2a8d:12345"\nmodel = "U2002H"\ncalibration_due = "2099-01-31"'
inst jig_instrument_date '[instruments.psu]\ntype = "psu"\nport = "tcp:127.0.0.1:5025"\nmodel = "E36103B"\ncalibration_due = "31.01.2099"\nvoltage = 16.8\ncurrent_limit = 10'
inst jig_instrument_expired '[instruments.psu]\ntype = "psu"\nport = "tcp:127.0.0.1:5025"\nmodel = "E36103B"\ncalibration_due = "2021-01-31"\nvoltage = 16.8\ncurrent_limit = 10'
inst jig_instrument_two_psus '[instruments.psu]\ntype = "psu"\nport = "tcp:127.0.0.1:5025"\nmodel = "E36103B"\ncalibration_due = "2099-01-31"\nvoltage = 16.8\ncurrent_limit = 10\n[instruments.psu2]\ntype = "psu"\nport = "tcp:127.0.0.1:5025"\nmodel = "E36103B"\ncalibration_due = "2099-01-31"\nvoltage = 16.8\ncurrent_limit = 10'
inst jig_instrument_averages_fraction '[instruments.rf]\ntype = "rf_power_meter"\nport = "tcp:127.0.0.1:5025"\nmodel = "U2002H"\ncalibration_due = "2099-01-31"\naverages = 2.5'
cp "$src/fixtures/variants/fpv-base.toml" "$src/fixtures/variants/fpv5-bf.toml" "$D/variants/"
jig_case jig_no_instruments_for_bench_steps 's|^variant = .*|variant = "fpv5-bf"|'
jig_case jig_station_not_table 's|^\[station\]|station = 5\n[x]|'
jig_case jig_toml_broken 's|^id = .*|id = "line1|'
jig_case jig_factory_not_url 's|^lot = \(.*\)|lot = \1\nfactory = "db.example:5432/rig"|'
run jig_file_missing "$bin/rigd" --jig "$D/nope.toml" --data "$D/data-nojig"
run jig_file_directory "$bin/rigd" --jig "$D/variants" --data "$D/data-nojig"

# --- populations (rigsim) -------------------------------------------------------------------
pop_case() {  # pop_case NAME TEXT
  printf '%b' "$2" >"$D/pop.toml"
  run "$1" "$bin/rigsim" --population "$D/pop.toml" --dir "$D/sim-$1"
}
pop_case pop_unknown_defect 'lot = "L"\n[[unit]]\nserial = "FPV5-000001"\ndefects = ["weak_motr:3"]\n'
pop_case pop_weak_motor_9 'lot = "L"\n[[unit]]\nserial = "FPV5-000001"\ndefects = ["weak_motor:9"]\n'
pop_case pop_weak_motor_x 'lot = "L"\n[[unit]]\nserial = "FPV5-000001"\ndefects = ["weak_motor:x"]\n'
pop_case pop_weak_motor_none 'lot = "L"\n[[unit]]\nserial = "FPV5-000001"\ndefects = ["weak_motor"]\n'
pop_case pop_vbat_nan 'lot = "L"\n[[unit]]\nserial = "FPV5-000001"\ndefects = ["vbat_offset:nan"]\n'
pop_case pop_idle_leak_inf 'lot = "L"\n[[unit]]\nserial = "FPV5-000001"\ndefects = ["idle_leak:inf"]\n'
pop_case pop_no_units 'lot = "L"\n'
pop_case pop_random_bad_defect 'lot = "L"\n[random]\nunits = 10\nserial_prefix = "FPV5-"\ndefect_rate = 0.2\ndefects = ["weak_motor:7"]\n'
pop_case pop_random_rate 'lot = "L"\n[random]\nunits = 10\nserial_prefix = "FPV5-"\ndefect_rate = 1.5\ndefects = ["noisy_gyro"]\n'
pop_case pop_random_typo 'lot = "L"\n[random]\nunit = 10\n'
pop_case pop_random_no_units 'lot = "L"\n[random]\nserial_prefix = "FPV5-"\ndefect_rate = 0.2\ndefects = ["noisy_gyro"]\n'
pop_case pop_random_no_defects 'lot = "L"\n[random]\nunits = 10\nserial_prefix = "FPV5-"\ndefect_rate = 0.2\n'
pop_case pop_no_serial 'lot = "L"\n[[unit]]\ndefects = []\n'
pop_case pop_defect_number 'lot = "L"\n[[unit]]\nserial = "FPV5-000001"\ndefects = [5]\n'
pop_case pop_toml_broken 'lot = "L\n'
pop_case pop_typo_key 'lott = "L"\n[[unit]]\nserial = "FPV5-000001"\n'
pop_case pop_fc_unknown 'lot = "L"\nfc = "inav"\n[[unit]]\nserial = "FPV5-000001"\n'
pop_case pop_fc_link_unknown 'lot = "L"\nfc_link = "usb"\n[[unit]]\nserial = "FPV5-000001"\n'
pop_case pop_typo_unit_key 'lot = "L"\n[[unit]]\nserial = "FPV5-000001"\ndefect = ["noisy_gyro"]\n'
pop_case pop_unit_not_table 'lot = "L"\nunit = [1, 2]\n'
pop_case pop_esc_defect_without_can 'lot = "L"\n[[unit]]\nserial = "CAN-000001"\ndefects = ["hot_esc:2"]\n'
pop_case pop_esc_5 'lot = "L"\ncan = true\n[[unit]]\nserial = "CAN-000001"\ndefects = ["weak_esc:5"]\n'
pop_case pop_can_not_bool 'lot = "L"\ncan = "yes"\n[[unit]]\nserial = "CAN-000001"\n'
pop_case pop_vtx_defect_without_bench 'lot = "L"\n[[unit]]\nserial = "FPV5-000001"\ndefects = ["low_vtx_power"]\n'
pop_case pop_bench_not_bool 'lot = "L"\nbench = 1\n[[unit]]\nserial = "FPV5-000001"\n'
pop_case pop_instrument_link_unknown 'lot = "L"\nbench = true\ninstrument_link = "gpib"\n[[unit]]\nserial = "FPV5-000001"\n'
pop_case pop_vtx_defect_on_ardupilot 'lot = "L"\nfc = "ardupilot"\nbench = true\n[[unit]]\nserial = "FPV5-000001"\ndefects = ["vtx_stuck_channel"]\n'
run pop_missing "$bin/rigsim" --population "$D/nope.toml" --dir "$D/sim-missing"
run cli_rigsim_nice_out_of_range "$bin/rigsim" --population "$D/nope.toml" --dir "$D/sim-missing" --nice 20

# --- command lines --------------------------------------------------------------------------
for v in -1 x 1.5; do run "cli_rigd_units_$v" "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --units "$v"; done
run cli_rigd_operator_space "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --operator "a b"
run cli_rigd_operator_empty "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --operator ""
run cli_rigd_tls_cert_alone "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --listen 127.0.0.1:0 --tls-cert "$D/jig.toml"
run cli_rigd_tls_not_pem "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --listen 127.0.0.1:0 --tls-cert "$D/jig.toml" --tls-key "$D/jig.toml"
run cli_rigd_tls_missing "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --listen 127.0.0.1:0 --tls-cert "$D/nope.pem" --tls-key "$D/nope.key"
run cli_rigd_variant_path "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --variant ../v
run cli_rigd_variant_unknown "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --variant w
run cli_rigd_variants_missing "$bin/rigd" --jig "$D/jig.toml" --variants "$D/nodir" --data "$D/data-cli"
run cli_rigd_no_jig "$bin/rigd" --data "$D/data-cli"
run cli_rigd_unknown_flag "$bin/rigd" --jig "$D/jig.toml" --frobnicate
# Several nests in one rigd: two on one station id or one device are refused before anything is written.
sed 's|^port = "serial:/dev/rig-absent-jig"|port = "serial:/dev/rig-absent-jig2"|; s|^port = "serial:/dev/rig-absent-fc"|port = "serial:/dev/rig-absent-fc2"|' \
  "$D/jig.toml" >"$D/nest-same-id.toml"
sed 's|^id = "line1-3"|id = "line1-4"|; s|^port = "serial:/dev/rig-absent-jig"|port = "serial:/dev/rig-absent-jig2"|' "$D/jig.toml" >"$D/nest-same-fc.toml"
sed 's|^id = "line1-3"|id = "line1-5"|; s|^port = "serial:/dev/rig-absent-fc"|port = "serial:/dev/rig-absent-fc5?baud=921600"|' \
  "$D/jig.toml" >"$D/nest-same-jig.toml"
run nests_same_station_id "$bin/rigd" --jig "$D/jig.toml" "$D/nest-same-id.toml" --variants "$D/variants" --data "$D/data-cli"
run nests_same_fc_port "$bin/rigd" --jig "$D/jig.toml" --jig "$D/nest-same-fc.toml" --variants "$D/variants" --data "$D/data-cli"
run nests_same_jig_port "$bin/rigd" --jig "$D/jig.toml" --jig "$D/nest-same-jig.toml" --variants "$D/variants" --data "$D/data-cli"
# A shared bench instrument needs each nest's own select; a device is a jig's or an instrument's.
rf='\n[instruments.rf]\ntype = "rf_power_meter"\nport = "tcp:127.0.0.1:5025"\nmodel = "U2002H"\ncalibration_due = "2099-05-31"'
sed "s|^protocol = .*|protocol = \"msp\"$rf|" "$D/jig.toml" >"$D/nest-rf-a.toml"
sed "s|^protocol = .*|protocol = \"msp\"$rf|" "$D/nest-same-jig.toml" | sed 's|^port = "serial:/dev/rig-absent-fc5?baud=921600"|port = "serial:/dev/rig-absent-fc6"|; s|^port = "serial:/dev/rig-absent-jig"$|port = "serial:/dev/rig-absent-jig6"|' >"$D/nest-rf-b.toml"
run nests_shared_rf_no_select "$bin/rigd" --jig "$D/nest-rf-a.toml" --jig "$D/nest-rf-b.toml" --variants "$D/variants" --data "$D/data-cli"
sed 's|^calibration_due = "2099-05-31"|calibration_due = "2099-05-31"\nselect = "ROUT:CLOS (@1)"|' "$D/nest-rf-a.toml" >"$D/nest-rf-a1.toml"
sed 's|^calibration_due = "2099-05-31"|calibration_due = "2099-05-31"\nselect = "ROUT:CLOS (@1)"|' "$D/nest-rf-b.toml" >"$D/nest-rf-b1.toml"
run nests_shared_rf_same_select "$bin/rigd" --jig "$D/nest-rf-a1.toml" --jig "$D/nest-rf-b1.toml" --variants "$D/variants" --data "$D/data-cli"
sed 's|^calibration_due = "2099-05-31"|calibration_due = "2099-06-30"\nselect = "ROUT:CLOS (@2)"|' "$D/nest-rf-b.toml" >"$D/nest-rf-b2.toml"
run nests_shared_rf_two_calibrations "$bin/rigd" --jig "$D/nest-rf-a1.toml" --jig "$D/nest-rf-b2.toml" --variants "$D/variants" --data "$D/data-cli"
sed 's|^port = "tcp:127.0.0.1:5025"|port = "serial:/dev/rig-absent-jig"|' "$D/nest-rf-b.toml" >"$D/nest-rf-on-jig.toml"
run nests_instrument_on_jig_port "$bin/rigd" --jig "$D/jig.toml" --jig "$D/nest-rf-on-jig.toml" --variants "$D/variants" --data "$D/data-cli"
run nests_one_bad "$bin/rigd" --jig "$D/jig.toml" --jig "$D/nope.toml" --variants "$D/variants" --data "$D/data-cli"
# The factory archive: a postgresql:// URL, and one factory for every nest of a rigd.
run cli_rigd_factory_not_url "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --factory "host=db user=rig"
run cli_rigd_factory_reply_timeout_zero "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/data-cli" --factory "postgresql://station1@127.0.0.1:1/rig" --factory-reply-timeout 0
sed 's|^lot = \(.*\)|lot = \1\nfactory = "postgresql://station1@db1.example/rig"|' "$D/jig.toml" >"$D/nest-factory-a.toml"
sed 's|^id = "line1-3"|id = "line1-6"|; s|^port = "serial:/dev/rig-absent-jig"|port = "serial:/dev/rig-absent-jig7"|; s|^port = "serial:/dev/rig-absent-fc"|port = "serial:/dev/rig-absent-fc7"|; s|^lot = \(.*\)|lot = \1\nfactory = "postgresql://station1@db2.example/rig"|' \
  "$D/jig.toml" >"$D/nest-factory-b.toml"
run nests_two_factories "$bin/rigd" --jig "$D/nest-factory-a.toml" --jig "$D/nest-factory-b.toml" --variants "$D/variants" --data "$D/data-cli"
[[ ! -e "$D/data-cli" ]] || { echo "CASE cli_rigd_*: rigd wrote its data directory"; failures=$((failures + 1)); }
: >"$D/plainfile"
run cli_rigd_data_is_file "$bin/rigd" --jig "$D/jig.toml" --variants "$D/variants" --data "$D/plainfile"
run cli_rigctl_none "$bin/rigctl" --data "$D/k"
run cli_rigctl_unknown "$bin/rigctl" --data "$D/k" frobnicate
run cli_keygen_no_station "$bin/rigctl" --data "$D/k" keygen
run cli_keygen_station_path "$bin/rigctl" --data "$D/k" keygen --station ../x
run cli_keygen_station_space "$bin/rigctl" --data "$D/k" keygen --station "a b"
"$bin/rigctl" --data "$D/k" keygen --station line1-3 >/dev/null || { echo "keygen failed"; exit 1; }
run cli_keygen_again "$bin/rigctl" --data "$D/k" keygen --station line1-3
run cli_verify_nothing "$bin/rigctl" --data "$D/k" verify
run cli_verify_dev_zero "$bin/rigctl" --data "$D/k" verify /dev/zero
run cli_verify_directory "$bin/rigctl" --data "$D/k" verify "$D/variants"
run cli_verify_missing "$bin/rigctl" --data "$D/k" verify "$D/nope.dsse.json"
run cli_verify_trust_missing "$bin/rigctl" --data "$D/k" verify --trust "$D/notrust" "$D/jig.toml"
echo "key=00" >"$D/bad.pub"
run cli_verify_trust_bad "$bin/rigctl" --data "$D/k" verify --trust "$D/bad.pub" "$D/jig.toml"
run cli_verify_archive_missing "$bin/rigctl" --data "$D/k" verify --archive "$D/nope.sqlite"
run cli_verify_archive_not_sqlite "$bin/rigctl" --data "$D/k" verify --archive "$D/jig.toml"
run cli_list_bad_verdict "$bin/rigctl" --data "$D/k" list --verdict maybe
run cli_list_typo_data "$bin/rigctl" --data "$D/typo" list
[[ ! -e "$D/typo" ]] || { echo "CASE cli_list_typo_data: rigctl created $D/typo"; failures=$((failures + 1)); }
run cli_show_no_serial "$bin/rigctl" --data "$D/k" show
run cli_db_migrate_sqlite "$bin/rigctl" --data "$D/k" db migrate --archive "$D/k/archive.sqlite"
run cli_db_migrate_refused "$bin/rigctl" --data "$D/k" db migrate --archive "postgresql://rig:secret@127.0.0.1:1/rig"
run cli_factory_status_no_archive "$bin/rigctl" --data "$D/k" factory status
run cli_factory_forward_no_station "$bin/rigctl" --data "$D/k" factory forward --archive "postgresql://rig@127.0.0.1:1/rig"
run cli_factory_forward_from_missing "$bin/rigctl" --data "$D/k" factory forward --station line1-3 --from "$D/nope.sqlite" --archive "postgresql://rig@127.0.0.1:1/rig"
run cli_factory_forward_batch_zero "$bin/rigctl" --data "$D/k" factory forward --station line1-3 --batch 0 --archive "postgresql://rig@127.0.0.1:1/rig"
run cli_factory_forward_reply_timeout_zero "$bin/rigctl" --data "$D/k" factory forward --station line1-3 --reply-timeout 0 --archive "postgresql://rig@127.0.0.1:1/rig"
run cli_factory_ingest_trust_missing "$bin/rigctl" --data "$D/k" factory ingest --trust "$D/notrust" --archive "postgresql://rig@127.0.0.1:1/rig"
run cli_list_pg_refused "$bin/rigctl" --data "$D/k" list --archive "postgres://qa:pw@127.0.0.1:1/rig?sslmode=disable"
# QA commands on an empty archive (the table only): selections, bundle names, keys, time bounds.
sqlite3 "$D/k/archive.sqlite" "CREATE TABLE certificates (id INTEGER PRIMARY KEY, station TEXT NOT NULL, sequence INTEGER NOT NULL,
  serial TEXT NOT NULL, variant TEXT NOT NULL, lot TEXT NOT NULL, verdict TEXT NOT NULL, created_at TEXT NOT NULL,
  sha256 TEXT NOT NULL UNIQUE, previous_sha256 TEXT NOT NULL, envelope TEXT NOT NULL);"
run cli_export_no_output "$bin/rigctl" --data "$D/k" export --lot L
run cli_export_no_selection "$bin/rigctl" --data "$D/k" export -o "$D/x.tar"
run cli_export_bad_name "$bin/rigctl" --data "$D/k" export --lot L -o "$D/x.zip"
run cli_export_key_missing "$bin/rigctl" --data "$D/k" export --lot L -o "$D/x.tar" --key "$D/nokey"
run cli_export_nothing "$bin/rigctl" --data "$D/k" export --lot NOPE -o "$D/x.tar"
run cli_export_bad_since "$bin/rigctl" --data "$D/k" export --since nope -o "$D/x.tar"
run cli_list_since_word "$bin/rigctl" --data "$D/k" list --since yesterday
run cli_list_until_month "$bin/rigctl" --data "$D/k" list --until 2026-13
run cli_list_limit_negative "$bin/rigctl" --data "$D/k" list --limit -1
run cli_stats_nothing "$bin/rigctl" --data "$D/k" stats --lot NOPE
run cli_stats_points_one "$bin/rigctl" --data "$D/k" stats --points 1
run cli_stats_points_word "$bin/rigctl" --data "$D/k" stats --points many
run cli_show_html_json "$bin/rigctl" --data "$D/k" show S --html --json
run cli_show_not_found "$bin/rigctl" --data "$D/k" show FPV5-404
echo hello >"$D/text.tar.gz"
run cli_verify_bundle_not_tar "$bin/rigctl" --data "$D/k" verify "$D/text.tar.gz"
: >"$D/empty.tar"
run cli_verify_bundle_empty "$bin/rigctl" --data "$D/k" verify "$D/empty.tar"
run cli_endorse_station_key "$bin/rigctl" --data "$D/k" endorse --key "$D/k/station.key" "$D/k/trust/"*.pub
run cli_keygen_root_path "$bin/rigctl" --data "$D/k" keygen --root ../x --out "$D/q"
for f in x.tar x.zip; do [[ ! -e "$D/$f" ]] || { echo "CASE cli_export: a refused export left $D/$f"; failures=$((failures + 1)); }; done
rm -f "$D/k/archive.sqlite"

# --- certificate files ----------------------------------------------------------------------
good_payload='{"schema":"rig.certificate/v1","unit":{"serial":"FPV5-000001","variant":"v","lot":"LOT-1"},"verdict":"pass","station":{"id":"line1-3","fixture_id":"JIG-0042","calibration_due":"2099-06-30","software_version":"0.1.0","sequence":1},"operator":"op","plan":{"id":"v","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"dut":{"firmware":"BTFL","board":"S7X2","uid":"00"},"started_at":"2099-01-01T00:00:00.000Z","finished_at":"2099-01-01T00:00:01.000Z","steps":[{"id":"idle","kind":"power.idle_current","verdict":"pass","message":"","started_at":"2099-01-01T00:00:00.000Z","duration_s":0.5,"measurements":[{"name":"current","value":0.3,"unit":"A","limit":"[0.1, 0.6] A","verdict":"pass"}]}],"previous_sha256":""}'
signed() {  # signed PAYLOAD > envelope signed by the station key of $D/k
  printf '{"payloadType":"application/vnd.rig.certificate+json","payload":"%s","signatures":[]}' "$(printf '%s' "$1" | base64 -w0)" |
    "$bin/forge" "$D/k/station.key"
}
cert_case() {  # cert_case NAME ENVELOPE_TEXT
  printf '%s' "$2" >"$D/c.dsse.json"
  run "$1" "$bin/rigctl" --data "$D/k" verify "$D/c.dsse.json"
}
payload_case() {  # payload_case NAME FROM TO: the good payload with one change, properly signed
  cert_case "$1" "$(signed "${good_payload/"$2"/"$3"}")"
}
signed "$good_payload" >"$D/good.dsse.json"
"$bin/rigctl" --data "$D/k" verify "$D/good.dsse.json" >/dev/null || { echo "the good certificate does not verify"; cat "$D/good.dsse.json"; exit 1; }
cert_case cert_empty ''
cert_case cert_not_json 'not json'
cert_case cert_array '[1,2]'
cert_case cert_no_type '{"payload":"e30=","signatures":[]}'
cert_case cert_wrong_type '{"payloadType":"text/plain","payload":"e30=","signatures":[]}'
cert_case cert_bad_base64 '{"payloadType":"application/vnd.rig.certificate+json","payload":"%%%","signatures":[]}'
cert_case cert_no_signatures '{"payloadType":"application/vnd.rig.certificate+json","payload":"e30=","signatures":[]}'
cert_case cert_signature_not_object '{"payloadType":"application/vnd.rig.certificate+json","payload":"e30=","signatures":[5]}'
keyid=$(sed -n 's/.*"keyid":"\([^"]*\)".*/\1/p' "$D/good.dsse.json")
cert_case cert_signature_malformed "{\"payloadType\":\"application/vnd.rig.certificate+json\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":\"$keyid\",\"sig\":\"AAAA\"}]}"
cert_case cert_untrusted_key '{"payloadType":"application/vnd.rig.certificate+json","payload":"e30=","signatures":[{"keyid":"ed25519:0000000000000000","sig":"AAAA"}]}'
cert_case cert_payload_not_json "$(signed 'not json')"
payload_case cert_schema '"rig.certificate/v1"' '"rig.certificate/v9"'
payload_case cert_serial_path '"serial":"FPV5-000001"' '"serial":"../../x"'
payload_case cert_serial_newline '"serial":"FPV5-000001"' '"serial":"FPV5\nunit X PASS"'
for v in -1 1.5 null 1e300 0 '"1"'; do payload_case "cert_sequence_${v//[^a-z0-9.-]/_}" '"sequence":1' "\"sequence\":$v"; done
payload_case cert_finished_at '"finished_at":"2099-01-01T00:00:01.000Z"' '"finished_at":"soon"'
payload_case cert_previous_on_first '"previous_sha256":""' '"previous_sha256":"abc"'
payload_case cert_verdict '"verdict":"pass","station"' '"verdict":"maybe","station"'
payload_case cert_duration '"duration_s":0.5' '"duration_s":-1'
payload_case cert_value_text '"value":0.3' '"value":"0.3"'
payload_case cert_missing_unit '"unit":{"serial":"FPV5-000001","variant":"v","lot":"LOT-1"},' ''
payload_case cert_station_forged '"id":"line1-3"' '"id":"line2-1"'
payload_case cert_calibration_date '"calibration_due":"2099-06-30"' '"calibration_due":"2099-13-01"'
payload_case cert_plan_sha '"sha256":"aaaa' '"sha256":"zzzz'
payload_case cert_steps_not_array '"steps":[' '"steps":5,"x":['

# --- compare with the expected lines --------------------------------------------------------
if [[ "$update" == --update ]]; then
  cp "$actual" "$here/expected.tsv"
  echo "bad-input: $n cases written to $here/expected.tsv"
  exit 0
fi
if ! diff -u "$here/expected.tsv" "$actual" >"$D/diff"; then
  echo "bad-input: cases differ from expected.tsv (- expected, + actual):"
  cat "$D/diff"
  failures=$((failures + 1))
fi
echo "bad-input: $n cases, $failures problems"
((n >= 200)) || { echo "bad-input: fewer than 200 cases"; exit 1; }
((failures == 0))
