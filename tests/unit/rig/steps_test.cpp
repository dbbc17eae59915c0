// Every step against fake capabilities: its arithmetic, its errors, NaN and missing values, so a
// step's logic is checked without rigsim. The fakes answer from scripts set by each test.
#include <cmath>
#include <set>

#include "tests/unit/rig/step_fakes.hpp"

using namespace rig;
using namespace rig::test;

TEST_CASE("fc.identity: records the DUT; config_problems only where the FC reports them; a boot timeout is the step's error") {
    Bench b;
    auto out = run(steps::fc_identity, b.ctx, spec("fc.identity", {}));
    REQUIRE(out);
    CHECK(find(*out, "fc_variant").text == "ArduPilot");
    CHECK(find(*out, "api_version").value == 2.0);
    CHECK(std::none_of(out->begin(), out->end(), [](auto& m) { return m.name == "config_problems"; }));
    CHECK(b.ctx.dut.firmware == "ArduPilot 4.6.2");
    b.fc.id->config_problems = 1;
    out = run(steps::fc_identity, b.ctx, spec("fc.identity", {}));
    CHECK(find(*out, "config_problems").value == 1);
    b.fc.ready = make_error(Errc::timeout, "fake:fc: no HEARTBEAT from the autopilot after power-on");
    out = run(steps::fc_identity, b.ctx, spec("fc.identity", {}));
    REQUIRE_FALSE(out);
    CHECK(out.error().message == "fake:fc: no HEARTBEAT from the autopilot after power-on");
}

TEST_CASE("fc.config: the snapshot's hash and size") {
    Bench b;
    auto out = run(steps::fc_config, b.ctx, spec("fc.config", {}));
    CHECK(find(*out, "config_sha256").text == "ab");
    CHECK(find(*out, "config_entries").value == 3);
    b.fc.cfg = make_error(Errc::timeout, "parameter list incomplete");
    CHECK_FALSE(run(steps::fc_config, b.ctx, spec("fc.config", {})));
}

TEST_CASE("power steps: vbat error is FC minus reference; a silent meter is an error") {
    Bench b;
    auto out = run(steps::vbat_accuracy, b.ctx, spec("power.vbat_accuracy", {{"samples", 2.0}}));
    CHECK(find(*out, "vbat_error").value == doctest::Approx(-0.1));
    CHECK(find(*out, "vbat_error").limit_key == "vbat_error");
    CHECK(find(*out, "vbat_fc").limit_key.empty());  // recorded, not judged
    b.supply.s = make_error(Errc::timeout, "fake:jig: jig did not answer READ_DUT_SUPPLY within 300 ms");
    out = run(steps::idle_current, b.ctx, spec("power.idle_current", {{"samples", 2.0}, {"settle_ms", 0.0}}));
    CHECK(out.error().code == Errc::timeout);
}

TEST_CASE("imu.static: magnitude, noise and bias in physical units; NaN from the FC stays NaN (never a pass)") {
    Bench b;
    int i = 0;
    b.fc.imu_fn = [&] {
        ++i;
        return devices::ImuSample{{0.6, 0, 0.8}, {1.0 + (i % 2), 0, -2}};
    };
    auto out = run(steps::imu_static, b.ctx, spec("imu.static", {{"samples", 4.0}}));
    CHECK(find(*out, "acc_magnitude").value == doctest::Approx(1.0));
    CHECK(find(*out, "gyro_bias").value == doctest::Approx(-2.0));
    CHECK(find(*out, "gyro_noise").value == doctest::Approx(std::sqrt(1.0 / 3.0)));
    b.fc.imu_fn = [] { return devices::ImuSample{{std::nan(""), 0, 1}, {0, 0, std::nan("")}}; };
    out = run(steps::imu_static, b.ctx, spec("imu.static", {{"samples", 2.0}}));
    CHECK(std::isnan(find(*out, "acc_magnitude").value));
    CHECK(std::isnan(find(*out, "gyro_noise").value));
    CHECK(std::isnan(find(*out, "gyro_bias").value));
}

TEST_CASE("baro.static and mag.static: a stuck sensor has zero noise; the field magnitude; an unsupported FC is an error") {
    Bench b;
    auto out = run(steps::baro_static, b.ctx, spec("baro.static", {{"samples", 3.0}, {"period_ms", 1.0}}));
    CHECK(find(*out, "pressure").value == doctest::Approx(1013.25));
    CHECK(find(*out, "pressure_noise").value == 0.0);
    out = run(steps::mag_static, b.ctx, spec("mag.static", {{"samples", 3.0}, {"period_ms", 1.0}}));
    CHECK(find(*out, "mag_field").value == doctest::Approx(500));
    b.fc.baro_fn = [] { return Result<devices::BaroSample>(make_error(Errc::invalid_argument, "fake:fc: MSP has no barometer pressure message")); };
    CHECK(run(steps::baro_static, b.ctx, spec("baro.static", {{"samples", 3.0}, {"period_ms", 1.0}})).error().message ==
          "fake:fc: MSP has no barometer pressure message");
}

TEST_CASE("motors.spin: each motor alone then stopped; no telemetry source is a failing measurement with its reason; silence is an error") {
    Bench b;
    const auto s = spec("motors.spin", {{"motors", 2.0}, {"samples", 2.0}, {"throttle_pct", 30.0}, {"spin_up_ms", 0.0}});
    auto out = run(steps::motors_spin, b.ctx, s);
    REQUIRE(out);
    CHECK(b.fc.calls == std::vector<std::string>{"spin 0 30", "stop", "spin 1 30", "stop"});
    CHECK(find(*out, "motor2.rpm").value == 10100);
    CHECK(find(*out, "motor2.rpm").limit_key == "rpm");
    CHECK(find(*out, "rpm_spread").value == doctest::Approx(100.0 / 10050 * 100));
    CHECK(find(*out, "motor_telemetry").text == "present");

    b.fc.telemetry = make_error(Errc::invalid_argument, "fake:fc: no motor telemetry source");
    b.fc.calls.clear();
    out = run(steps::motors_spin, b.ctx, s);
    REQUIRE(out);
    REQUIRE(out->size() == 1);
    CHECK(find(*out, "motor_telemetry").text == "none (fake:fc: no motor telemetry source)");
    CHECK(b.fc.calls.empty());  // nothing spun without a way to measure it

    b.fc.telemetry = Result<void>{};
    b.fc.motor_fn = [](int) { return Result<devices::MotorSample>(make_error(Errc::protocol_error, "fake:fc: motor 1 telemetry is silent")); };
    out = run(steps::motors_spin, b.ctx, s);
    CHECK(out.error().message == "fake:fc: motor 1 telemetry is silent");
    CHECK_THROWS_WITH(run(steps::motors_spin, b.ctx, spec("motors.spin", {{"motors", 9.0}, {"samples", 2.0}, {"throttle_pct", 30.0}, {"spin_up_ms", 0.0}})),
                      "step 's': param 'motors' = 9 outside 1..4");
}

TEST_CASE("radio.link: the largest channel error; swapped channels; failsafe readback is no value; no transmitter is an error") {
    Bench b;
    const auto s = spec("radio.link", {{"channels", 4.0}, {"samples", 2.0}, {"settle_ms", 0.0}});
    b.fc.rc_fn = [&] { return devices::RcInput{{b.radio.sent[0] + 1, b.radio.sent[1], b.radio.sent[2], b.radio.sent[3] - 2, 1500}, false}; };
    auto out = run(steps::radio_link, b.ctx, s);
    REQUIRE(out);
    CHECK(find(*out, "channel_error").value == 2);
    CHECK(find(*out, "rssi2").limit_key == "rssi");
    CHECK(find(*out, "receiver").text == "RP3 3.5.2");
    CHECK_FALSE(b.radio.on);
    // Every channel differs from every other, all below an arm switch's threshold.
    CHECK(b.radio.sent == std::vector<double>{1010, 1050, 1090, 1130});
    b.fc.rc_fn = [&] { return devices::RcInput{{b.radio.sent[1], b.radio.sent[0], b.radio.sent[2], b.radio.sent[3]}, false}; };
    CHECK(find(*run(steps::radio_link, b.ctx, s), "channel_error").value == 40);
    b.fc.rc_fn = [&] { return devices::RcInput{b.radio.sent, true}; };
    CHECK(std::isnan(find(*run(steps::radio_link, b.ctx, s), "channel_error").value));
    b.radio.rx = make_error(Errc::timeout, "no DEVICE_INFO");
    b.fc.rc_fn = [&] { return devices::RcInput{b.radio.sent, false}; };
    CHECK(find(*run(steps::radio_link, b.ctx, s), "receiver").text == "(no answer: no DEVICE_INFO)");
    b.ctx.radio = nullptr;
    CHECK(run(steps::radio_link, b.ctx, s).error().message == "this jig has no reference transmitter ([devices.radio] in the jig file)");
}

TEST_CASE("radio.failsafe: time to failsafe after the stream stops, and to recovery; a link never up is an error") {
    Bench b;
    const auto s = spec("radio.failsafe", {{"max_wait_ms", 500.0}, {"period_ms", 5.0}});
    int polls_off = 0;
    b.fc.rc_fn = [&] {
        if (!b.radio.on) ++polls_off;
        else polls_off = 0;
        return devices::RcInput{{1500}, !b.radio.on && polls_off > 3};
    };
    auto out = run(steps::radio_failsafe, b.ctx, s);
    REQUIRE(out);
    CHECK(find(*out, "failsafe_ms").value >= 15);
    CHECK(find(*out, "recovery_ms").value < 5);
    b.fc.rc_fn = [] { return devices::RcInput{{}, true}; };
    out = run(steps::radio_failsafe, b.ctx, s);
    CHECK(out.error().message == "fake:fc: the flight controller stays in failsafe with the transmitter on");
    b.fc.rc_fn = [&] { return devices::RcInput{{1500}, false}; };  // never fails safe
    out = run(steps::radio_failsafe, b.ctx, s);
    CHECK(std::isnan(find(*out, "failsafe_ms").value));
}

TEST_CASE("can.nodes: every expected node heard after the step began, its health and identity; ESC unique ids become the unit's parts") {
    Bench b;
    const auto s = spec("can.nodes", {{"fc_node", 10.0}, {"esc_first_node", 20.0}, {"escs", 4.0}, {"listen_ms", 100.0}});
    auto out = run(steps::can_nodes, b.ctx, s);
    REQUIRE(out);
    CHECK(find(*out, "nodes_missing").text == "none");
    CHECK(find(*out, "nodes_other").text == "none");
    CHECK(find(*out, "nodes_other").limit_key.empty());
    CHECK(find(*out, "node20.health").limit_key == "health");
    CHECK(find(*out, "fc.name").text == "org.ardupilot.cubeorange");
    CHECK(find(*out, "esc4.software").limit_key == "esc_software");
    CHECK(find(*out, "esc4.unique_id").text == std::string(30, '0') + "23");
    CHECK(find(*out, "esc4.unique_id").limit_key.empty());
    REQUIRE(b.ctx.dut.parts.size() == 4);
    CHECK(b.ctx.dut.parts[0] == reports::Part{"esc1", std::string(30, '0') + "20", "com.rigsim.esc", "1.4", "2.0"});

    // A missing ESC is named, nothing is claimed for it; an extra node is recorded.
    b.ctx.dut = {};
    b.esc.online = {10, 20, 21, 23, 42};
    b.esc.health[21] = "WARNING";
    b.esc.calls.clear();
    out = run(steps::can_nodes, b.ctx, s);
    REQUIRE(out);
    CHECK(find(*out, "nodes_missing").text == "22");
    CHECK(find(*out, "nodes_other").text == "42");
    CHECK(find(*out, "node21.health").text == "WARNING");
    CHECK(std::none_of(out->begin(), out->end(), [](auto& m) { return m.name.starts_with("esc3.") || m.name.starts_with("node22."); }));
    CHECK(b.esc.calls == std::vector<std::string>{"info 10", "info 20", "info 21", "info 23"});
    CHECK(b.ctx.dut.parts.size() == 3);

    b.esc.bus = make_error(Errc::io_error, "slcan:/dev/ttyACM1: read failed: hang-up");
    CHECK(run(steps::can_nodes, b.ctx, s).error().message == "slcan:/dev/ttyACM1: read failed: hang-up");
    b.ctx.esc = nullptr;
    CHECK(run(steps::can_nodes, b.ctx, s).error().message == "this jig has no CAN bus ([devices.can] in the jig file)");
}

TEST_CASE("esc.spin: each ESC through the FC's motor test or directly, read from its own esc.Status; the error counter's rise") {
    Bench b;
    auto s = spec("esc.spin", {{"escs", 2.0}, {"samples", 3.0}, {"throttle_pct", 30.0}, {"spin_up_ms", 0.0}, {"command", std::string("fc")}});
    auto out = run(steps::esc_spin, b.ctx, s);
    REQUIRE(out);
    CHECK(b.fc.calls == std::vector<std::string>{"spin 0 30", "stop", "spin 1 30", "stop"});
    CHECK(b.esc.calls.empty());
    CHECK(find(*out, "esc2.rpm").value == 9100);
    CHECK(find(*out, "esc2.temperature").value == 41);
    CHECK(find(*out, "esc1.errors").value == 0);
    CHECK(find(*out, "rpm_spread").value == doctest::Approx(100.0 / 9050 * 100));

    // Direct: rig's own esc.RawCommand; an ESC whose error counter rises while it spins.
    int reads = 0;
    b.esc.status_fn = [&](int e) { return Result<devices::EscSample>(devices::EscSample{9000, 2, 16, 40, static_cast<double>(e == 1 ? reads++ : 0), 20 + e}); };
    b.fc.calls.clear();
    s.params["command"] = std::string("direct");
    out = run(steps::esc_spin, b.ctx, s);
    REQUIRE(out);
    CHECK(b.fc.calls.empty());
    CHECK(b.esc.calls == std::vector<std::string>{"spin 0 30", "stop", "spin 1 30", "stop"});
    CHECK(find(*out, "esc2.errors").value == 3);
    CHECK(find(*out, "esc1.errors").value == 0);

    b.esc.status_fn = [](int) { return Result<devices::EscSample>(make_error(Errc::timeout, "fake:can: no esc.Status from ESC 1 within 300 ms")); };
    CHECK(run(steps::esc_spin, b.ctx, s).error().message == "fake:can: no esc.Status from ESC 1 within 300 ms");
    s.params["command"] = std::string("pwm");
    CHECK_THROWS_WITH(run(steps::esc_spin, b.ctx, s),
                      "step 's': command 'pwm': expected \"fc\" (the FC's motor test) or \"direct\" (esc.RawCommand from rig)");
}

TEST_CASE("every step kind emits exactly what it declares beside its code, with its units") {
    Bench b;
    b.fc.rc_fn = [&] { return devices::RcInput{b.radio.on ? b.radio.sent : std::vector<double>{}, !b.radio.on}; };
    b.fc.id->config_problems = 0;
    std::set<std::string> names;
    for (const auto& k : steps::kinds()) {
        CAPTURE(k.schema.kind);
        CHECK(names.insert(k.schema.kind).second);  // one kind, one name
        // Defaults, with every dwell at its shortest so the test is quick.
        auto s = spec(k.schema.kind, {});
        for (const auto& p : k.schema.params)
            s.params[p.name] = p.name.ends_with("_ms") && p.name != "max_wait_ms" ? plan::ParamValue(p.min) : p.default_value;
        if (k.schema.kind == "can.nodes") s.params["fc_node"] = 10.0;  // the FC's measurements too
        if (k.schema.kind == "vtx.power") s.params["channels"] = std::string("4");  // the channel check too
        auto out = run(k.run, b.ctx, s);
        REQUIRE(out);
        CHECK(steps::check_declared(k.schema, *out));
        // And every judged measurement it declares is one it can emit.
        for (const auto& d : k.schema.measurements) {
            if (!d.judged || d.key == "config_problems") continue;
            CHECK_MESSAGE(std::any_of(out->begin(), out->end(), [&](auto& m) { return (m.limit_key.empty() ? m.name : m.limit_key) == d.key; }),
                          "declared but never emitted: ", d.key);
        }
    }
    CHECK(steps::catalogue().size() == steps::kinds().size());
    CHECK(steps::make_registry(b.ctx).size() == steps::kinds().size());
}

TEST_CASE("an undeclared measurement, a wrong unit or type, or a recorded value judged is the step's error") {
    const plan::KindSchema k{"x.kind", 1s, {}, {{"volts", true, "V"}, {"name", false, ""}, {"raw", true, "V", false}}};
    auto msg = [&](sequencer::Measured m) {
        auto r = steps::check_declared(k, {std::move(m)});
        return r ? std::string("ok") : r.error().message;
    };
    CHECK(msg({"volts", "volts", 1, "V", "", false, ""}) == "ok");
    CHECK(msg({"m1.volts", "volts", 1, "V", "", false, ""}) == "ok");
    CHECK(msg({"raw", "", 1, "V", "", false, ""}) == "ok");
    CHECK(msg({"amps", "amps", 1, "A", "", false, ""}) == "step kind x.kind: measurement 'amps' is not declared (a defect of the step's code)");
    CHECK(msg({"volts", "volts", 1, "mV", "", false, ""}) == "step kind x.kind: measurement 'volts' has unit 'mV', declared 'V' (a defect of the step's code)");
    CHECK(msg({"volts", "volts", 0, "V", "1", true, ""}) == "step kind x.kind: measurement 'volts' is declared numeric (a defect of the step's code)");
    CHECK(msg({"raw", "raw", 1, "V", "", false, ""}) == "step kind x.kind: measurement 'raw' is declared recorded but was judged (a defect of the step's code)");
    CHECK(msg({"volts", "", 1, "V", "", false, ""}) == "step kind x.kind: measurement 'volts' is declared judged but was only recorded (a defect of the step's code)");
    CHECK(msg({"m1.raw", "", 1, "V", "", false, "raw"}) == "ok");  // recorded under its declared key
    CHECK(msg({"m1.raw", "", 1, "V", "", false, ""}) == "step kind x.kind: measurement 'm1.raw' is not declared (a defect of the step's code)");
}
