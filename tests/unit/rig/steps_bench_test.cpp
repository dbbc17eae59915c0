// power.supply and vtx.power against fake bench instruments and a fake VTX.
#include <cmath>

#include "tests/unit/rig/step_fakes.hpp"

using namespace rig;
using namespace rig::test;

TEST_CASE("power.supply: inrush from power-on, idle, then one motor as the load; CC anywhere is current_limited; trips named") {
    Bench b;
    b.psu.readings = {{16.80, 0.30, 16.8, 10, false}, {16.80, 0.32, 16.8, 10, false},   // idle
                      {16.78, 2.10, 16.8, 10, false}, {16.76, 2.30, 16.8, 10, false}};  // motor 2 at 30 %
    auto s = spec("power.supply", {{"settle_ms", 0.0}, {"samples", 2.0}, {"load_motor", 2.0}, {"load_throttle_pct", 30.0}, {"spin_up_ms", 0.0}});
    auto out = run(steps::power_supply, b.ctx, s);
    REQUIRE(out);
    CHECK(find(*out, "inrush_current").value == 2.5);
    CHECK(find(*out, "inrush_samples").value == 40);
    CHECK(find(*out, "idle_current").value == doctest::Approx(0.31));
    CHECK(find(*out, "supply_voltage").value == doctest::Approx(16.80));
    CHECK(find(*out, "load_current").value == doctest::Approx(2.2));
    CHECK(find(*out, "voltage_under_load").value == doctest::Approx(16.77));
    CHECK(find(*out, "current_limited").text == "no");
    CHECK(find(*out, "protection_tripped").text == "none");
    CHECK(b.fc.calls == std::vector<std::string>{"spin 1 30", "stop"});

    b.psu.readings = {{14.1, 1.5, 16.8, 10, true}};
    b.psu.tripped = "over-current";
    out = run(steps::power_supply, b.ctx, s);
    REQUIRE(out);
    CHECK(find(*out, "current_limited").text == "yes");
    CHECK(find(*out, "protection_tripped").text == "over-current");

    b.psu.captured = make_error(Errc::not_found, "psu (fake): no inrush captured at this unit's power-on");
    CHECK(run(steps::power_supply, b.ctx, s).error().message == "psu (fake): no inrush captured at this unit's power-on");
    b.ctx.psu = nullptr;
    CHECK(run(steps::power_supply, b.ctx, s).error().message == "this jig has no bench supply ([instruments.*] type = \"psu\")");
}

TEST_CASE("vtx.power: each level against its label in dB at the frequency the FC reports, then more channels at the first level") {
    Bench b;
    // The meter sees the VTX's level in dBm at the channel it was told: 25/200/600 mW labels.
    b.rf.dbm_at = [&](double hz) {
        const double mw[] = {0, 25, 100, 200, 400, 600};
        return Result<double>(10 * std::log10(mw[b.vtx.state.power_index]) - 0.4 + (hz > 5.7e9 ? 0.1 : 0));
    };
    auto s = spec("vtx.power", {{"band", 5.0}, {"channel", 1.0}, {"levels", std::string("1,3,5")}, {"level_mw", std::string("25, 200, 600")},
                                {"channels", std::string("4,8")}, {"settle_ms", 0.0}});
    auto out = run(steps::vtx_power, b.ctx, s);
    REQUIRE(out);
    CHECK(b.vtx.calls == std::vector<std::string>{"set 5 1 1 false", "set 5 1 3 false", "set 5 1 5 false", "set 5 4 1 false", "set 5 8 1 false"});
    CHECK(b.rf.asked_hz == std::vector<double>{5658e6, 5658e6, 5658e6, 5769e6, 5917e6});
    CHECK(find(*out, "power_L5").value == doctest::Approx(10 * std::log10(600) - 0.4));
    CHECK(find(*out, "power_error_L3").value == doctest::Approx(-0.4));
    CHECK(find(*out, "channel_power_error_ch8").value == doctest::Approx(-0.3));
    CHECK(find(*out, "frequency_ch4").value == 5769);
    CHECK(find(*out, "vtx_device").text == "SmartAudio");

    // Nothing radiated where it was sent: a VTX stuck on R1.
    b.rf.dbm_at = [&](double hz) { return Result<double>(hz == 5658e6 ? 13.9 : -43.5); };
    out = run(steps::vtx_power, b.ctx, s);
    REQUIRE(out);
    CHECK(find(*out, "channel_power_error_ch4").value == doctest::Approx(-43.5 - 10 * std::log10(25)));

    // The FC keeps another power level than the one set: never measured as if it were.
    b.vtx.ignore_power = true;
    CHECK(run(steps::vtx_power, b.ctx, s).error().message == "VTX reports band 5 channel 1 power 1 after being set to band 5 channel 1 power 3");
    b.vtx.ignore_power = false;

    s.params["levels"] = std::string("1,7");
    s.params["level_mw"] = std::string("25,1000");
    CHECK(run(steps::vtx_power, b.ctx, s).error().message == "step 's': power level 7 but the VTX table has 5");
    s.params["level_mw"] = std::string("25");
    CHECK(run(steps::vtx_power, b.ctx, s).error().message == "step 's': 2 levels but 1 level_mw labels");
    s.params["levels"] = std::string("1,x");
    CHECK_THROWS_WITH(run(steps::vtx_power, b.ctx, s), "step 's': param 'levels' = \"1,x\": 'x' is not a number in 1..255");
    s.params["levels"] = std::string("1");
    b.vtx.state.power_levels = 0;
    CHECK(run(steps::vtx_power, b.ctx, s).error().message == "VTX (SmartAudio) has no VTX table loaded");
    b.vtx.state.power_levels = 5;
    b.vtx.state.ready = false;
    CHECK(run(steps::vtx_power, b.ctx, s).error().message == "VTX (SmartAudio) not ready");
    b.ctx.rf = nullptr;
    CHECK(run(steps::vtx_power, b.ctx, s).error().message == "this jig has no RF power meter ([instruments.*] type = \"rf_power_meter\")");
    b.ctx.vtx = nullptr;
    CHECK(run(steps::vtx_power, b.ctx, s).error().message == "this flight controller drives no VTX over its protocol (vtx.power needs MSP)");
}
