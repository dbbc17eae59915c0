#!/usr/bin/env bash
# End-to-end: the real rigd against the real rigsim over PTYs, one scenario per ctest test.
# usage: e2e.sh BIN_DIR SOURCE_DIR SCENARIO
set -uo pipefail
bin=$1 src=$2 scenario=$3
source "$(dirname "$0")/lib.sh"

case "$scenario" in
good_and_weak_motor)
  population FPV5-000001 FPV5-000002=weak_motor:3
  start_sim
  rigd --units 2
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit FPV5-000001 +PASS'
  expect_out '^unit FPV5-000002 +FAIL +motors\.spin \(motors\): motor3\.rpm [0-9]+ rpm outside \[8500, 11500\] rpm'
  expect_out 'rigd: 2 tested: 1 pass, 1 fail, 0 error'
  power_off_after_motors FPV5-000001
  power_off_after_motors FPV5-000002
  verify_all
  # A new station key (the old one lost or rotated) must not orphan the certificates it signed.
  mv "$work/data/station.key" "$work/old.key"
  "$bin/rigctl" --data "$work/data" keygen --station sim-line1 >/dev/null || fail "keygen failed"
  [[ $(ls "$work/data/trust/"*.pub | wc -l) -eq 2 ]] || fail "keygen overwrote the old public key"
  "$bin/rigctl" --data "$work/data" keygen --station sim-line1 >"$work/keygen.out" 2>&1 && fail "keygen overwrote an existing key"
  grep -q "a station key exists already" "$work/keygen.out" || fail "keygen does not say why it refused"
  verify_all
  "$bin/rigctl" --data "$work/data" show FPV5-000002 >"$work/show.out" || fail "rigctl show failed"
  grep -qE 'fail +motor3\.rpm' "$work/show.out" || fail "show does not list motor3.rpm as fail"
  # One changed byte in an archived certificate is named by verify.
  f=$(certs_of FPV5-000002)
  sed -i 's/"payload":"eyJ/"payload":"eyK/' "$f"
  "$bin/rigctl" --data "$work/data" verify "$f" >"$work/verify.out" 2>&1 && fail "tampered certificate verified"
  grep -q "BAD   $f" "$work/verify.out" || fail "verify does not name the tampered file"
  stop_sim
  ;;
interceptor_lot)
  # The interceptor lot of the README: ArduPilot over MAVLink, ELRS link; each defect fails the
  # step meant to catch it and no other; good units pass; every certificate verifies.
  cp "$src/fixtures/populations/interceptor.toml" "$work/population.toml"
  start_sim
  rigd --units 11
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit INT-000101 +PASS'
  expect_out '^unit INT-000102 +PASS'
  expect_out '^unit INT-000103 +FAIL +radio\.link \(radio\): channel_error no value .*link_quality 0 %'
  expect_out '^unit INT-000104 +FAIL +radio\.link \(radio\): link_quality 62 % outside >= 95 %'
  expect_out '^unit INT-000105 +FAIL +radio\.failsafe \(failsafe\): failsafe_ms [0-9]+ ms outside <= 1500 ms'
  expect_out '^unit INT-000106 +FAIL +radio\.link \(radio\): channel_error 40 us outside <= 4 us'
  expect_out "^unit INT-000107 +FAIL +fc\\.config \\(config\\): config_sha256 '[0-9a-f]{64}' outside =="
  expect_out '^unit INT-000108 +FAIL +baro\.static \(baro\): pressure 0 hPa'
  expect_out '^unit INT-000109 +FAIL +mag\.static \(mag\): mag_field [0-9]+ mGauss outside \[185, 875\] mGauss'
  expect_out '^unit INT-000110 +FAIL +motors\.spin \(motors\): motor2\.rpm [0-9]+ rpm outside'
  expect_out "^unit INT-000111 +FAIL +motors\\.spin \\(motors\\): motor_telemetry 'none \\(.*neither ESC_TELEMETRY_1_TO_4 nor ESC_STATUS"
  expect_out 'rigd: 11 tested: 2 pass, 9 fail, 0 error'
  for serial in INT-000103 INT-000104 INT-000105 INT-000106 INT-000107 INT-000108 INT-000109 INT-000110 INT-000111; do
    "$bin/rigctl" --data "$work/data" show "$serial" >"$work/show.out" || fail "show $serial failed"
    [[ $(grep -cE '^  fail ' "$work/show.out") -eq 1 ]] || fail "$serial: more than one step failed: $(grep -E '^  fail ' "$work/show.out")"
  done
  for serial in INT-000101 INT-000110; do power_off_after_motors "$serial"; done
  expect_event 'INT-000110 motor test stopped'
  verify_all
  stop_sim
  ;;
can_esc_lot)
  # The CAN-ESC lot of the README: ArduPilot over MAVLink, four DroneCAN ESCs behind the jig's
  # SLCAN adapter; each ESC defect fails the step meant to catch it and no other step.
  cp "$src/fixtures/populations/can-esc.toml" "$work/population.toml"
  start_sim
  rigd --units 7
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit CAN-000101 +PASS'
  expect_out '^unit CAN-000102 +PASS'
  expect_out "^unit CAN-000103 +FAIL +can\\.nodes \\(can\\): nodes_missing '22' outside == none"
  expect_out "^unit CAN-000104 +FAIL +can\\.nodes \\(can\\): esc2\\.software '1\\.2' outside == 1\\.4"
  expect_out '^unit CAN-000105 +FAIL +esc\.spin \(escs\): esc1\.temperature [0-9.]+ degC outside <= 50 degC'
  expect_out '^unit CAN-000106 +FAIL +esc\.spin \(escs\): esc4\.rpm [0-9]+ rpm outside \[8500, 11500\] rpm'
  expect_out '^unit CAN-000107 +FAIL +esc\.spin \(escs\): esc2\.errors [1-9][0-9]* outside <= 0'
  expect_out 'rigd: 7 tested: 2 pass, 5 fail, 0 error'
  for serial in CAN-000104 CAN-000105 CAN-000106 CAN-000107; do
    "$bin/rigctl" --data "$work/data" show "$serial" >"$work/show.out" || fail "show $serial failed"
    [[ $(grep -cE '^  fail ' "$work/show.out") -eq 1 ]] || fail "$serial: more than one step failed: $(grep -E '^  fail ' "$work/show.out")"
  done
  # The missing ESC is named once; the spin step cannot read it and says so, claiming nothing.
  "$bin/rigctl" --data "$work/data" show CAN-000103 >"$work/show.out"
  grep -qE '^  error +esc\.spin.*no esc\.Status from ESC 3' "$work/show.out" || fail "CAN-000103: esc.spin does not name ESC 3: $(cat "$work/show.out")"
  # ESC genealogy: the four ESCs' unique ids are the unit's parts.
  "$bin/rigctl" --data "$work/data" show CAN-000101 >"$work/show.out"
  [[ $(grep -cE '^    part esc[1-4]: com\.rigsim\.esc serial [0-9a-f]{32} firmware 1\.4 hardware 2\.0' "$work/show.out") -eq 4 ]] ||
    fail "CAN-000101: four ESC parts expected: $(cat "$work/show.out")"
  for serial in CAN-000101 CAN-000106; do power_off_after_motors "$serial"; done
  verify_all
  stop_sim
  ;;
can_bad)
  # A node id clash, a bitrate the adapter refuses, no adapter at all, and the adapter unplugged
  # mid-spin: each is one line naming the bus; DUT power goes off; nothing unread is claimed.
  CAN=1 population CAN-000001=can_adapter_drop_at_motors CAN-000002
  start_sim
  rigd --units 2
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit CAN-000001 +ERROR +esc\.spin \(escs\): slcan:.*/sim/slcan\?bitrate=1000000: read failed'
  expect_out '^unit CAN-000002 +PASS'
  expect_err 'event=can_reopened'
  power_off_after_motors CAN-000001
  stop_sim
  jig="$work/sim/jig.toml"
  CAN=1 population CAN-000003
  start_sim
  sed -i 's|^node_id = 100|node_id = 10|' "$jig"  # the FC's node id
  rigd --units 1
  expect_out "^unit CAN-000003 +ERROR +can\\.nodes \\(can\\): slcan:.*: node id clash: another node on the bus sends as node 10 \\(rig's own id\\)"
  stop_sim
  start_sim
  sed -i 's|bitrate=1000000|bitrate=10000|' "$jig"
  rigd --units 1
  [[ $rc -ne 0 ]] || fail "rigd accepted a refused bitrate"
  expect_err '^rigd: slcan:.*/sim/slcan\?bitrate=10000: slcan adapter refused bitrate 10000 bit/s \(S0\)$'
  sed -i 's|^port = "slcan:.*|port = "slcan:/dev/rig-no-such-adapter"|' "$jig"
  rigd --units 1
  [[ $rc -ne 0 ]] || fail "rigd started without its CAN adapter"
  expect_err '^rigd: slcan:/dev/rig-no-such-adapter: cannot open /dev/rig-no-such-adapter: No such file or directory$'
  stop_sim
  ;;
interceptor_px4)
  # The same interceptor plan on PX4: identity by MAV_AUTOPILOT_PX4, integer parameters decoded
  # bytewise into the golden dump, motor telemetry from ESC_STATUS (ESC_TELEMETRY_1_TO_4 refused).
  cp "$src/fixtures/populations/interceptor-px4.toml" "$work/population.toml"
  start_sim
  rigd --units 6
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit INT-000401 +PASS'
  expect_out '^unit INT-000402 +PASS'
  expect_out "^unit INT-000403 +FAIL +fc\\.config \\(config\\): config_sha256 '[0-9a-f]{64}' outside =="
  expect_out '^unit INT-000404 +FAIL +motors\.spin \(motors\): motor4\.rpm [0-9]+ rpm outside'
  expect_out "^unit INT-000405 +FAIL +motors\\.spin \\(motors\\): motor_telemetry 'none \\(.*neither ESC_TELEMETRY_1_TO_4 nor ESC_STATUS.*\\(PX4: DSHOT_BIDIR_EN"
  expect_out '^unit INT-000406 +FAIL +radio\.failsafe \(failsafe\): failsafe_ms [0-9]+ ms outside <= 1500 ms'
  "$bin/rigctl" --data "$work/data" show INT-000401 >"$work/show.out"
  grep -qE "fc_variant +PX4 " "$work/show.out" || fail "identity not PX4: $(grep fc_variant "$work/show.out")"
  grep -qE "firmware +1\.15\.4 " "$work/show.out" || fail "firmware not 1.15.4: $(grep firmware "$work/show.out")"
  power_off_after_motors INT-000404
  verify_all
  stop_sim
  ;;
interceptor_tcp)
  # The autopilot over TCP, as ArduPilot SITL serves MAVLink on 5760: refused while the DUT is
  # off, connected once it is up, the connection dropped at power-off and made again per unit.
  INTERCEPTOR=1 FC_LINK=tcp population INT-000301 INT-000302=weak_motor:3 INT-000303
  start_sim
  grep -qE '^port = "tcp:127\.0\.0\.1:[0-9]+"$' "$work/sim/jig.toml" || fail "jig file does not name a tcp: FC port: $(grep port "$work/sim/jig.toml")"
  rigd --units 3
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit INT-000301 +PASS'
  expect_out '^unit INT-000302 +FAIL +motors\.spin \(motors\): motor3\.rpm [0-9]+ rpm outside'
  expect_out '^unit INT-000303 +PASS'
  power_off_after_motors INT-000302
  verify_all
  stop_sim
  ;;
fpv_radio)
  # The FPV drone's control link over MSP: channels read back with MSP_RC, RX loss from the
  # RX_FAILSAFE arming flag of MSP_STATUS_EX; each link defect fails its own step only.
  cp "$src/fixtures/populations/fpv-elrs.toml" "$work/population.toml"
  start_sim
  rigd --units 6
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit FPV5-000301 +PASS'
  expect_out '^unit FPV5-000302 +PASS'
  expect_out '^unit FPV5-000303 +FAIL +radio\.link \(radio\): channel_error no value .*link_quality 0 %'
  expect_out '^unit FPV5-000304 +FAIL +radio\.link \(radio\): link_quality 62 % outside >= 95 %'
  expect_out '^unit FPV5-000305 +FAIL +radio\.failsafe \(failsafe\): failsafe_ms [0-9]+ ms outside <= 2000 ms'
  expect_out '^unit FPV5-000306 +FAIL +radio\.link \(radio\): channel_error 40 us outside <= 4 us'
  expect_out 'rigd: 6 tested: 2 pass, 4 fail, 0 error'
  for serial in FPV5-000303 FPV5-000304 FPV5-000305 FPV5-000306; do
    "$bin/rigctl" --data "$work/data" show "$serial" >"$work/show.out" || fail "show $serial failed"
    [[ $(grep -cE '^  fail ' "$work/show.out") -eq 1 ]] || fail "$serial: more than one step failed: $(grep -E '^  fail ' "$work/show.out")"
  done
  "$bin/rigctl" --data "$work/data" show FPV5-000301 >"$work/show.out"
  grep -qE 'failsafe_ms +1[5-9][0-9]{2} ms' "$work/show.out" || fail "good unit's failsafe_ms not Betaflight's 1.5-2 s: $(grep failsafe_ms "$work/show.out")"
  verify_all
  stop_sim
  ;;
interceptor_bad)
  # A silent autopilot, a refused motor test, a parameter list that never completes and a
  # transmitter module that does not answer: each one line naming the port and message, the
  # unit ERROR with safe state reached, never a hang.
  INTERCEPTOR=1 population INT-000201=autopilot_silent INT-000202=motor_test_denied INT-000203=params_incomplete INT-000204=radio_module_silent
  start_sim
  rigd --units 4
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit INT-000201 +ERROR +fc\.identity \(identity\): serial:.*/fc\?baud=921600: no HEARTBEAT from the autopilot after power-on'
  expect_out '^unit INT-000202 +ERROR +motors\.spin \(motors\): serial:.*/fc\?baud=921600: autopilot refused MAV_CMD_DO_MOTOR_TEST \(209\): DENIED \(autopilot: "PreArm: Motor Interlock Enabled"\)'
  expect_out '^unit INT-000203 +ERROR +fc\.config \(config\): serial:.*/fc\?baud=921600: parameter list incomplete: 29 of 30 received after [0-9]+ re-requests \(missing index 7\)'
  expect_out '^unit INT-000204 +ERROR +radio\.link \(radio\): serial:.*/radio\?baud=420000: no LINK_STATISTICS from the transmitter module'
  for serial in INT-000201 INT-000202 INT-000203 INT-000204; do
    awk -v s="$serial" '$2 == s' "$work/events.log" | tail -n 3 | grep -q 'dut_power off' || fail "$serial: DUT power not cut at the end"
  done
  verify_all
  stop_sim
  ;;
fpv_bench)
  # The bench instruments over loopback TCP: a SCPI supply and an RF power meter. Each bench
  # defect fails its own step and no other; the certificate names each instrument as it
  # identified itself, with its calibration; the VTX is left in pit mode at its lowest power.
  cp "$src/fixtures/populations/fpv-bench.toml" "$work/population.toml"
  start_sim
  rigd --units 5
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit FPV5-000401 +PASS'
  expect_out '^unit FPV5-000402 +PASS'
  expect_out '^unit FPV5-000403 +FAIL +vtx\.power \(vtx\): power_error_L1 -[78]\.[0-9]+ dB outside \[-2, 2\] dB; power_error_L3 '
  expect_out '^unit FPV5-000404 +FAIL +vtx\.power \(vtx\): channel_power_error_ch4 -5[0-9]\.[0-9]+ dB outside \[-2, 2\] dB; channel_power_error_ch8 '
  expect_out '^unit FPV5-000405 +FAIL +power\.supply \(supply\): voltage_under_load 1[0-5]\.[0-9]+ V outside >= 16\.3 V; current_limited .yes. outside == no'
  expect_out 'rigd: 5 tested: 2 pass, 3 fail, 0 error'
  for serial in FPV5-000403 FPV5-000404 FPV5-000405; do
    "$bin/rigctl" --data "$work/data" show "$serial" >"$work/show.out" || fail "show $serial failed"
    [[ $(grep -cE '^  fail ' "$work/show.out") -eq 1 ]] || fail "$serial: more than one step failed: $(grep -E '^  fail ' "$work/show.out")"
  done
  "$bin/rigctl" --data "$work/data" show FPV5-000401 >"$work/show.out"
  grep -q '^  instrument psu (psu): RIGSIM PSU3010 serial SIM-PSU-0001 firmware 1.4.2, calibration due 2027-03-31$' "$work/show.out" || fail "no psu in the certificate"
  grep -q '^  instrument rf (rf_power_meter): RIGSIM RFM6000 serial SIM-RFM-0001 firmware 2.0.1, calibration due 2027-05-31$' "$work/show.out" || fail "no RF meter in the certificate"
  grep -qE 'pass +power_error_L5 +-?[01]\.[0-9]+ dB' "$work/show.out" || fail "600 mW level not within 2 dB: $(grep power_error_L5 "$work/show.out")"
  grep -qE 'pass +inrush_current +[1-4]\.[0-9]+ A' "$work/show.out" || fail "no inrush captured: $(grep inrush "$work/show.out")"
  # The bench supply is a second break in the DUT's power: on for each unit, off after it.
  for serial in FPV5-000401 FPV5-000402 FPV5-000403 FPV5-000404 FPV5-000405; do
    awk -v s="$serial" '$2 == s' "$work/events.log" | awk '/psu output on/{on=NR} /psu output off/{if (NR > on) off=NR} END {exit !(on && off)}' ||
      fail "$serial: the bench supply was not switched on and then off"
  done
  # After the VTX step: lowest power and pit mode, before DUT power goes off.
  for serial in FPV5-000401 FPV5-000403 FPV5-000404; do
    awk -v s="$serial" '$2 == s' "$work/events.log" | grep 'vtx set' | tail -n 1 | grep -q 'vtx set band 5 channel [0-9] power 1 pit 1' ||
      fail "$serial: VTX not returned to pit mode: $(awk -v s="$serial" '$2 == s' "$work/events.log" | grep vtx | tail -n 2)"
  done
  verify_all
  stop_sim
  ;;
bench_bad)
  # Instruments on PTYs (serial SCPI) work the same. Then an instrument whose link drops
  # mid-unit, one that names another model, and one that refuses a setting: each one line
  # naming the instrument and its port; DUT power off; no reading claimed that was not read.
  INSTRUMENT_LINK=serial population FPV5-000501=instrument_drop_at_motors FPV5-000502
  start_sim
  rigd --units 2
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  grep -q '^port = "serial:.*/sim/psu"' "$work/sim/jig.toml" || fail "the supply is not on a PTY"
  expect_out "^unit FPV5-000501 +ERROR +vtx\\.power \\(vtx\\): rf \\(serial:$work/sim/rfmeter\\): "
  expect_out '^unit FPV5-000502 +PASS'
  expect_err 'event=instrument_ready name=rf'
  "$bin/rigctl" --data "$work/data" show FPV5-000501 >"$work/show.out"
  grep -q 'power_L' "$work/show.out" && fail "a VTX power was recorded although the meter was gone"
  expect_event 'FPV5-000501 dut_power off \(host\)'
  awk '$2 == "FPV5-000501"' "$work/events.log" | grep -q 'psu output off' || fail "bench supply left on after an errored unit"
  stop_sim
  jig="$work/sim/jig.toml"
  population FPV5-000503
  start_sim
  sed -i 's|^model = "PSU3010"|model = "E36103B"|' "$jig"
  rigd --units 1
  [[ $rc -ne 0 ]] || fail "rigd accepted another supply model"
  expect_err "^rigd: psu \\(tcp:127\\.0\\.0\\.1:[0-9]+\\): \\*IDN\\? names model 'PSU3010' \\(RIGSIM serial SIM-PSU-0001\\), the jig file expects 'E36103B'$"
  stop_sim
  start_sim
  sed -i 's|^voltage = 16.8|voltage = 40\novp = 44|; /^ovp = 18.5/d' "$jig"
  rigd --units 1
  [[ $rc -ne 0 ]] || fail "rigd accepted a supply that refused its voltage"
  expect_err '^rigd: psu \(tcp:127\.0\.0\.1:[0-9]+\): SCPI error -222,"Data out of range" after \*CLS; OUTP OFF; VOLT 40; CURR 10; VOLT:PROT 44$'
  [[ -z "$(ls "$work/data/certificates/" 2>/dev/null | grep FPV5-000503)" ]] || fail "a unit was certified with a refused supply"
  stop_sim
  # A USB power sensor the jig file names but nobody plugged in: real libusb finds no such device.
  start_sim
  sed -i 's|^voltage = 40|voltage = 16.8|; /^ovp = 44/d' "$jig"
  awk '/^\[instruments\.rf\]/{rf=1} rf && /^port = /{print "port = \"usbtmc:2a8d:b018:MY99999\""; rf=0; next} {print}' "$jig" >"$jig.new" && mv "$jig.new" "$jig"
  rigd --units 1
  [[ $rc -ne 0 ]] || fail "rigd started without its USB power sensor"
  expect_err '^rigd: rf: usbtmc:2a8d:b018:MY99999: no USB device 2a8d:b018 is connected$'
  stop_sim
  ;;
defects_detected)
  # Each injected defect is caught by the step meant to catch it, and by no other.
  population FPV5-000201=noisy_gyro FPV5-000202=vbat_offset:0.4 FPV5-000203=idle_leak:0.5 FPV5-000204=acc_uncalibrated
  start_sim
  rigd --units 4
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit FPV5-000201 +FAIL +imu\.static \(imu\): gyro_noise [0-9.]+ dps outside <= 0\.5 dps'
  expect_out '^unit FPV5-000202 +FAIL +power\.vbat_accuracy \(vbat\): vbat_error 0\.[0-9]+ V outside \[-0\.15, 0\.15\] V'
  expect_out '^unit FPV5-000203 +FAIL +power\.idle_current \(idle\): current 0\.[0-9]+ A outside \[0\.1, 0\.6\] A'
  expect_out '^unit FPV5-000204 +FAIL +fc\.identity \(identity\): config_problems 1 outside == 0'
  for serial in FPV5-000201 FPV5-000202 FPV5-000203 FPV5-000204; do
    "$bin/rigctl" --data "$work/data" show "$serial" >"$work/show.out" || fail "show $serial failed"
    [[ $(grep -cE '^  fail ' "$work/show.out") -eq 1 ]] || fail "$serial: more than one step failed: $(grep -E '^  fail ' "$work/show.out")"
  done
  verify_all
  stop_sim
  ;;
fc_timeout)
  population FPV5-000011=fc_stall_at_motors FPV5-000012
  start_sim
  rigd --units 2
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit FPV5-000011 +ERROR +motors\.spin \(motors\): .*flight controller did not answer MSP_[A-Z_]+ \([0-9]+\) within'
  expect_out '^unit FPV5-000012 +PASS'
  expect_event 'FPV5-000011 dut_power off \(host\)'
  verify_all
  stop_sim
  ;;
lost_port)
  population FPV5-000021=usb_drop_at_motors FPV5-000022
  start_sim
  rigd --units 2
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out "^unit FPV5-000021 +ERROR +motors\.spin \(motors\): serial:$work/sim/fc: "
  expect_out '^unit FPV5-000022 +PASS'
  expect_event 'FPV5-000021 dut_power off \(host\)'
  verify_all
  stop_sim
  ;;
operator_abort)
  population FPV5-000031=open_lid_at_motors FPV5-000032
  start_sim
  rigd --units 2
  [[ $rc -eq 3 ]] || fail "rigd exit $rc, want 3 (a unit was aborted)"
  expect_out '^unit FPV5-000031 +ABORTED \(lid opened during the test\): no certificate issued'
  expect_out '^unit FPV5-000032 +PASS'
  [[ -z "$(certs_of FPV5-000031)" ]] || fail "an aborted unit got a certificate"
  expect_event 'FPV5-000031 dut_power off \(interlock'
  verify_all
  stop_sim
  ;;
sigterm)
  population FPV5-000041
  start_sim
  rigd_bg --units 0
  wait_event 'FPV5-000041 motors (1[1-9][0-9][0-9],|1000,1[1-9])' 60
  kill -TERM "$rigd_pid"
  wait "$rigd_pid"
  rc=$?
  rigd_pid=""
  [[ $rc -eq 3 ]] || fail "rigd exit $rc after SIGTERM mid-test, want 3"
  expect_out '^unit FPV5-000041 +ABORTED \(SIGTERM\): no certificate issued'
  expect_err 'SIGTERM received, making the station safe'
  [[ -z "$(certs_of FPV5-000041)" ]] || fail "an aborted unit got a certificate"
  power_off_after_motors FPV5-000041
  expect_event 'FPV5-000041 dut_power off \(host\)'
  stop_sim
  ;;
sigterm_idle)
  # SIGTERM while waiting for the next unit is a clean shutdown: exit 0, totals printed.
  # Here rigd may not raise its priority (no CAP_SYS_NICE): it says so once and runs on.
  population FPV5-000045
  start_sim
  [[ $EUID -eq 0 ]] && command -v setpriv >/dev/null && rigd_wrap="setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice"
  rigd_bg --units 0
  wait_event 'FPV5-000045 lid opened, unloaded' 60
  sleep 0.3
  kill -TERM "$rigd_pid"
  wait "$rigd_pid"
  rc=$?
  rigd_pid=""
  [[ $rc -eq 0 ]] || fail "rigd exit $rc after SIGTERM while idle, want 0"
  expect_out '^unit FPV5-000045 +PASS'
  expect_out 'rigd: 1 tested: 1 pass, 0 fail, 0 error; 0 aborted, 0 not tested'
  if [[ -n ${rigd_wrap:-} ]]; then
    expect_err '^rigd: WARNING: scheduling priority nice -10 refused \(Permission denied\): step timing jitter grows when the host is loaded; give rigd CAP_SYS_NICE \(systemd: Nice=-10\) or start it with --nice 0$'
    [[ $(grep -c 'scheduling priority' "$work/rigd.err") -eq 1 ]] || fail "the priority warning is not said exactly once"
  fi
  stop_sim
  ;;
out_of_service)
  # A nest taken out of service over rigd's control socket finishes its unit, takes none while
  # out (the next one waits loaded), and tests again once back in service; no restart.
  population FPV5-000061 FPV5-000062 FPV5-000063
  start_sim
  rigd_bg --units 0
  wait_event 'FPV5-000061 motors (1[1-9][0-9][0-9],|1000,1[1-9])' 60
  # Every thread of rigd runs at its raised priority (default nice -10) where it may raise it.
  if [[ $EUID -eq 0 ]]; then
    [[ $(ps -L -o ni= -p "$rigd_pid" | sort -u | tr -d ' ') == "-10" ]] || fail "rigd threads at nice: $(ps -L -o ni= -p "$rigd_pid" | sort -u)"
    expect_err '^rigd: scheduling priority nice -10$'
  fi
  ctl() { "$bin/rigctl" --data "$work/data" "$@" >"$work/ctl.out" 2>&1; ctl_rc=$?; }
  ctl service sim-line1 out --reason "RF meter calibration"
  [[ $ctl_rc -eq 0 ]] || fail "service out: exit $ctl_rc: $(cat "$work/ctl.out")"
  grep -q '^ok: sim-line1 testing FPV5-000061, then out of service' "$work/ctl.out" || fail "service out said: $(cat "$work/ctl.out")"
  for _ in $(seq 400); do grep -q 'OUT OF SERVICE: RF meter calibration' "$work/rigd.out" && break; sleep 0.05; done
  expect_out '^unit FPV5-000061 +PASS'
  expect_out '^OUT OF SERVICE: RF meter calibration$'
  wait_event 'FPV5-000062 .*lid closed' 30
  sleep 2
  grep -q 'unit FPV5-000062' "$work/rigd.out" && fail "a unit was tested out of service"
  ctl status
  grep -qE '^sim-line1 out of service \(RF meter calibration\): 1 tested, 1 pass' "$work/ctl.out" || fail "status said: $(cat "$work/ctl.out")"
  ctl service line9 out --reason x
  [[ $ctl_rc -eq 2 ]] && grep -q "^rigctl: no nest 'line9' in this rigd (nests: sim-line1)$" "$work/ctl.out" || fail "unknown nest: $(cat "$work/ctl.out")"
  ctl service sim-line1 out
  [[ $ctl_rc -eq 2 ]] && grep -q -- '--reason is required' "$work/ctl.out" || fail "no reason: $(cat "$work/ctl.out")"
  ctl service sim-line1 in
  [[ $ctl_rc -eq 0 ]] || fail "service in: $(cat "$work/ctl.out")"
  for _ in $(seq 600); do grep -q 'unit FPV5-000063' "$work/rigd.out" && break; sleep 0.05; done
  expect_out '^back in service$'
  expect_out '^unit FPV5-000062 +PASS'
  expect_out '^unit FPV5-000063 +PASS'
  expect_err 'station=sim-line1 event=control request="out-of-service sim-line1 RF meter calibration"'
  wait_event 'FPV5-000063 lid opened, unloaded' 30
  kill -TERM "$rigd_pid"
  wait "$rigd_pid"
  rc=$?
  rigd_pid=""
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  [[ ! -e "$work/data/rigd.sock" ]] || fail "the control socket outlived rigd"
  ctl status
  [[ $ctl_rc -eq 2 ]] && grep -q 'rigd.sock: no rigd is listening' "$work/ctl.out" || fail "status without rigd: $(cat "$work/ctl.out")"
  stop_sim
  ;;
sigkill_watchdog)
  population FPV5-000051
  start_sim
  rigd_bg --units 0
  wait_event 'FPV5-000051 motors (1[1-9][0-9][0-9],|1000,1[1-9])' 60
  kill -KILL "$rigd_pid"
  wait "$rigd_pid" 2>/dev/null
  rigd_pid=""
  # rigd is gone without teardown: the jig must cut DUT power on its own within 500 ms.
  wait_event 'FPV5-000051 dut_power off \(watchdog' 2
  stop_sim
  ;;
fc_dead)
  population FPV5-000061=fc_dead
  start_sim
  rigd --units 1
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit FPV5-000061 +ERROR +fc\.identity \(identity\): serial:.*/fc: flight controller did not answer after power-on'
  verify_all
  stop_sim
  ;;
bad_input)
  # --version: the project's version, on stdout, exit 0, whatever else is (not) given.
  version=$(sed -nE 's/^project\(rig VERSION ([0-9.]+) .*/\1/p' "$src/CMakeLists.txt")
  [[ -n $version ]] || fail "no version in CMakeLists.txt"
  for b in rigd rigctl rigsim; do
    out=$("$bin/$b" --version 2>&1) || fail "$b --version: exit $?"
    [[ $out == "$b $version" ]] || fail "$b --version printed '$out', want '$b $version'"
  done
  population FPV5-000071
  start_sim
  "$bin/rigd" --jig "$work/nope.toml" --data "$work/data" >"$work/rigd.out" 2>"$work/rigd.err"; rc=$?
  [[ $rc -eq 2 ]] || fail "missing jig file: exit $rc"
  expect_err "^rigd: $work/nope.toml: no such jig file$"
  printf '[station]\nid = "x"\nfixture_id = \n' >"$work/broken.toml"
  "$bin/rigd" --jig "$work/broken.toml" --data "$work/data" >"$work/rigd.out" 2>"$work/rigd.err"; rc=$?
  [[ $rc -eq 2 ]] || fail "malformed jig file: exit $rc"
  expect_err "^rigd: $work/broken.toml:3:1[0-9]*: "
  sed 's|^port = "serial:.*/fc"|port = "serial:/dev/rig-absent-fc"|; s|^port = "serial:.*/jig"|port = "serial:/dev/rig-absent-jig"|' "$work/sim/jig.toml" >"$work/absent.toml"
  "$bin/rigd" --jig "$work/absent.toml" --variants "$src/fixtures/variants" --data "$work/data" >"$work/rigd.out" 2>"$work/rigd.err"; rc=$?
  [[ $rc -eq 2 ]] || fail "absent port: exit $rc"
  expect_err '^rigd: serial:/dev/rig-absent-jig: cannot open /dev/rig-absent-jig: '
  sed 's|^calibration_due = .*|calibration_due = "2020-01-31"|' "$work/sim/jig.toml" >"$work/expired.toml"
  "$bin/rigd" --jig "$work/expired.toml" --variants "$src/fixtures/variants" --data "$work/data" >"$work/rigd.out" 2>"$work/rigd.err"; rc=$?
  [[ $rc -eq 2 ]] || fail "expired calibration: exit $rc"
  expect_err "^rigd: $work/expired.toml: fixture SIMJIG-01 calibration expired on 2020-01-31"
  sed 's|^calibration_due = .*|calibration_due = "next june"|' "$work/sim/jig.toml" >"$work/baddate.toml"
  "$bin/rigd" --jig "$work/baddate.toml" --variants "$src/fixtures/variants" --data "$work/data" >"$work/rigd.out" 2>"$work/rigd.err"; rc=$?
  [[ $rc -eq 2 ]] || fail "bad calibration date: exit $rc"
  expect_err "^rigd: $work/baddate.toml:[0-9]+:[0-9]+: key 'station.calibration_due': 'next june' is not a date"
  rigd --variant fpv5-btf --units 1
  [[ $rc -eq 2 ]] || fail "unknown variant: exit $rc"
  expect_err "no variant 'fpv5-btf' \(did you mean 'fpv5-bf'\?\)"
  [[ ! -e "$work/data/archive.sqlite" ]] || [[ $("$bin/rigctl" --data "$work/data" list | tail -n 1) == "0 certificates "* ]] ||
    fail "bad input left certificates behind"
  # rigctl: bad input is named, with a non-zero exit.
  "$bin/rigctl" --data "$work/data" verify "$work/nope.dsse.json" >"$work/rigctl.out" 2>&1 && fail "verify of a missing file succeeded"
  grep -q "^rigctl: $work/nope.dsse.json: cannot open$" "$work/rigctl.out" || fail "verify does not name the missing file"
  echo '{"payloadType":"x"}' >"$work/junk.dsse.json"
  "$bin/rigctl" --data "$work/data" verify "$work/junk.dsse.json" >"$work/rigctl.out" 2>&1 && fail "verify of junk succeeded"
  grep -q "BAD   $work/junk.dsse.json  envelope lacks payloadType, payload or signatures" "$work/rigctl.out" || fail "verify does not say what is wrong"
  "$bin/rigctl" --data "$work/data" show FPV5-999999 >"$work/rigctl.out" 2>&1 && fail "show of an unknown serial succeeded"
  grep -q "^rigctl: no certificate for serial 'FPV5-999999'" "$work/rigctl.out" || fail "show does not name the serial"
  "$bin/rigctl" --data "$work/data" verify --trust "$work/none" "$work/junk.dsse.json" >"$work/rigctl.out" 2>&1 && fail "verify without a trust store succeeded"
  grep -q "^rigctl: $work/none: cannot open" "$work/rigctl.out" || fail "verify does not name the missing trust store"
  stop_sim
  ;;
scanner_serial)
  # The nest's own hand scanner on a serial port (rigsim's, on a PTY, CR suffix): the operator
  # scans each unit before placing it; the jig's reader is never asked.
  population FPV5-000121 FPV5-000122=weak_motor:3
  SIM_ARGS="--scanner serial" start_sim
  grep -q "^scanner = \"serial:$work/sim/scanner?baud=9600\"" "$work/sim/jig.toml" || fail "rigsim wrote no scanner into the jig file"
  rigd --units 2
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_err "event=scanner_ready scanner=\"serial:$work/sim/scanner\?baud=9600\""
  expect_err 'event=scan serial=FPV5-000121 source=scanner'
  expect_err 'event=scan serial=FPV5-000122 source=scanner'
  expect_out '^scanned FPV5-000121$'
  expect_out '^unit FPV5-000121 +PASS'
  expect_out '^unit FPV5-000122 +FAIL +motors\.spin'
  expect_event 'FPV5-000121 scanned FPV5-000121 with the hand scanner'
  verify_all
  stop_sim
  ;;
bad_barcode)
  # A label that does not match the variant's serial_regex is refused before any power-on.
  population NOT-A-SERIAL FPV5-000091
  start_sim
  rigd --units 2
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out "^unit NOT-A-SERIAL +not tested: barcode does not match serial_regex"
  expect_out '^unit FPV5-000091 +PASS'
  grep -q 'NOT-A-SERIAL dut_power on' "$work/events.log" && fail "a unit with a bad barcode was powered"
  [[ -z "$(certs_of NOT-A-SERIAL)" ]] || fail "a refused unit got a certificate"
  stop_sim
  ;;
jig_lost)
  # The jig controller leaves the USB bus mid-test and is back 1 s later: the unit is aborted
  # (no certificate), the jig's watchdog cuts DUT power, and the nest waits for its jig, finds
  # it again, shows the abort on the stack light, and tests the next unit. No restart.
  population FPV5-000101=jig_drop_at_motors FPV5-000102
  start_sim
  rigd --units 2
  [[ $rc -eq 3 ]] || fail "rigd exit $rc, want 3 (a unit aborted, the nest went on)"
  expect_out "^unit FPV5-000101 +ABORTED \\(jig link lost: serial:$work/sim/jig: "
  expect_out "^JIG LOST: serial:$work/sim/jig: .*; waiting for it to answer again$"
  expect_out '^jig back after [0-9]+\.[0-9] s$'
  expect_out '^unit FPV5-000102 +PASS'
  expect_out 'rigd: 1 tested: 1 pass, 0 fail, 0 error; 1 aborted, 0 not tested'
  [[ -z "$(certs_of FPV5-000101)" ]] || fail "a unit tested without its jig got a certificate"
  expect_err "safe_state_unconfirmed"
  expect_err 'event=jig_lost error="serial:'
  expect_err 'event=jig_back after_s=[0-9.]+ jig_firmware=rigsim'
  expect_event 'FPV5-000101 dut_power off \(watchdog'
  expect_event 'FPV5-000101 jig controller enumerated again'
  # The operator was shown the abort (red) once the jig was back, and unloaded on it.
  expect_event 'FPV5-000101 verdict light red'
  verify_all
  stop_sim
  ;;
jig_gone)
  # The jig controller leaves the USB bus for good: the nest says so and waits for it; a
  # SIGTERM meanwhile ends rigd at once, non-zero, naming the lost jig.
  population FPV5-000103=jig_gone_at_motors FPV5-000104
  start_sim
  rigd_bg --units 0
  wait_event 'FPV5-000103 dut_power off \(watchdog' 60
  for _ in $(seq 50); do grep -q 'event=jig_lost' "$work/rigd.err" && break; sleep 0.1; done
  expect_err 'event=jig_lost error="serial:'
  "$bin/rigctl" --data "$work/data" status >"$work/status.out" 2>&1 || fail "rigctl status failed: $(cat "$work/status.out")"
  grep -qE "^sim-line1 jig lost \\(serial:$work/sim/jig: " "$work/status.out" || fail "status does not say the jig is lost: $(cat "$work/status.out")"
  sleep 1.5  # a reconnect attempt or two fail meanwhile
  kill -TERM "$rigd_pid"
  started=$(date +%s%N)
  wait "$rigd_pid"
  rc=$?
  rigd_pid=""
  (( ($(date +%s%N) - started) / 1000000 < 5000 )) || fail "rigd took over 5 s to stop while its jig was lost"
  [[ $rc -eq 2 ]] || fail "rigd exit $rc, want 2 when the jig is lost at shutdown"
  expect_err "^rigd: jig lost when rigd stopped: serial:$work/sim/jig: "
  expect_out '^unit FPV5-000103 +ABORTED \(jig link lost: '
  [[ -z "$(certs_of FPV5-000103)" ]] || fail "a unit tested without its jig got a certificate"
  stop_sim
  ;;
jig_mute)
  # The jig stops answering for 8 s while its link stays up (an overloaded host or jig): the
  # unit is aborted, the watchdog cuts power, the nest finds the jig lost (its commands are each
  # sent twice, so it takes the nest some 4 s to get there), and once the jig answers again the
  # nest goes on on the same link.
  population FPV5-000105=jig_mute_at_motors FPV5-000106
  start_sim
  rigd --units 2
  [[ $rc -eq 3 ]] || fail "rigd exit $rc, want 3"
  expect_out "^unit FPV5-000105 +ABORTED \\(jig link lost: serial:$work/sim/jig: jig did not answer HEARTBEAT within 300 ms\\)"
  expect_out '^jig back after [0-9]+\.[0-9] s$'
  expect_out '^unit FPV5-000106 +PASS'
  expect_event 'FPV5-000105 dut_power off \(watchdog'
  expect_event 'FPV5-000105 verdict light red'
  stop_sim
  ;;
commit_failure)
  # The archive refuses the insert (as a full disk would): no verdict may be shown.
  population FPV5-000081
  start_sim
  # rigd creates the archive before it opens the jig: a jig file with an absent jig port makes one.
  sed 's|^port = "serial:.*/jig"|port = "serial:/dev/rig-absent-jig"|' "$work/sim/jig.toml" >"$work/absent.toml"
  "$bin/rigd" --jig "$work/absent.toml" --variants "$src/fixtures/variants" --data "$work/data" >/dev/null 2>&1
  [[ -f "$work/data/archive.sqlite" ]] || fail "rigd did not create the archive"
  sqlite3 "$work/data/archive.sqlite" "CREATE TRIGGER refuse BEFORE INSERT ON certificates BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END;"
  rigd --units 1
  [[ $rc -eq 2 ]] || fail "rigd exit $rc, want 2 when a certificate cannot be committed"
  expect_out '^unit FPV5-000081 +NOT CERTIFIED: .*disk full \(test\)'
  grep -qE 'PASS|FAIL' "$work/rigd.out" && fail "a verdict was shown without a committed certificate"
  [[ -z "$(certs_of FPV5-000081)" ]] || fail "a certificate file was written without a commit"
  stop_sim
  ;;
fc_enumeration)
  # A real FC's USB port appears 0.5-1.5 s after DUT power-on: the heartbeat must carry the jig
  # through the wait (no watchdog trip) and every unit passes.
  population FPV5-000111 FPV5-000112
  SIM_ARGS="--fc-enumeration 1.5" start_sim
  rigd --units 2
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit FPV5-000111 +PASS'
  expect_out '^unit FPV5-000112 +PASS'
  expect_event 'FPV5-000111 fc usb enumerated'
  grep -q 'watchdog' "$work/events.log" && fail "the jig watchdog tripped while the FC enumerated"
  stop_sim
  grep -q 'watchdog trips 0' "$work/sim.out" || fail "rigsim counted watchdog trips: $(tail -n 1 "$work/sim.out")"
  ;;
fc_port_absent)
  # An FC port that never appears: the unit errors naming the port, and the jig never trips.
  population FPV5-000121
  start_sim
  sed 's|^port = "serial:.*/fc"|port = "serial:/nonexistent"|' "$work/sim/jig.toml" >"$work/nofc.toml"
  "$bin/rigd" --jig "$work/nofc.toml" --variants "$src/fixtures/variants" --data "$work/data" --units 1 >"$work/rigd.out" 2>"$work/rigd.err"
  rc=$?
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out '^unit FPV5-000121 +ERROR +fc\.identity \(identity\): serial:/nonexistent: cannot open /nonexistent: '
  stop_sim
  grep -q 'watchdog trips 0' "$work/sim.out" || fail "the jig watchdog tripped: $(tail -n 1 "$work/sim.out")"
  ;;
no_motor_telemetry)
  population FPV5-000131=no_motor_telemetry
  start_sim
  rigd --units 1
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  expect_out "^unit FPV5-000131 +FAIL +motors\\.spin \\(motors\\): motor_telemetry 'none \\(serial:.*/fc: no motor telemetry source: the flight controller reports use_dshot_telemetry 0 and esc_sensor 0"
  "$bin/rigctl" --data "$work/data" show FPV5-000131 >"$work/show.out" || fail "show failed"
  grep -q 'motor1.rpm' "$work/show.out" && fail "a non-measurement was recorded as motor1.rpm"
  verify_all
  stop_sim
  ;;
io_stall_450ms)
  # rigd's io thread freezes for 450 ms mid-spin (longer than the jig's 500 ms watchdog leaves
  # after a 100 ms heartbeat period): the backup heartbeat thread keeps the jig fed, no unit is
  # aborted. scripts/soak runs the same with 40+ units.
  population FPV5-000141 FPV5-000142 FPV5-000143
  start_sim
  RIG_INJECT_IO_STALL_MS=450 rigd --units 3
  [[ $rc -eq 0 ]] || fail "rigd exit $rc"
  [[ $(grep -c 'event=injected_io_stall ms=450' "$work/rigd.err") -eq 3 ]] || fail "the stall was not injected in every unit"
  [[ $(grep -cE '^unit FPV5-00014[1-3] +PASS' "$work/rigd.out") -eq 3 ]] || fail "a unit did not pass through a 450 ms stall"
  grep -q 'watchdog' "$work/events.log" && fail "the jig watchdog tripped during a 450 ms io stall"
  stop_sim
  ;;
io_stall_2s)
  # A truly hung rigd (2 s): the backup heartbeat stops after 1 s of io silence, the jig's
  # watchdog cuts DUT power 500 ms later, and the unit is aborted without a certificate.
  population FPV5-000151
  start_sim
  RIG_INJECT_IO_STALL_MS=2000 rigd --units 1
  [[ $rc -eq 3 ]] || fail "rigd exit $rc, want 3 (aborted)"
  expect_out '^unit FPV5-000151 +ABORTED \(jig reports DUT power cut \(watchdog or interlock\)\): no certificate issued'
  expect_event 'FPV5-000151 dut_power off \(watchdog'
  [[ -z "$(certs_of FPV5-000151)" ]] || fail "a unit whose power was cut got a certificate"
  # Bounded: power goes off at most 1.6 s after the last heartbeat rigd's io thread sent.
  stop_sim
  ;;
*)
  fail "unknown scenario"
  ;;
esac
echo "PASS [$scenario]"
