// power.idle_current and power.vbat_accuracy: the DUT supply against the jig's meter;
// power.supply: the unit as the bench supply sees it.
#include <fmt/format.h>

#include "rig/steps/measure.hpp"
#include "rig/steps/steps.hpp"

namespace rig::steps {

using namespace std::chrono;

const StepKind idle_current_kind{
    .schema = {"power.idle_current", 5s,
               {{"settle_ms", 500.0, 0, 60000, true}, {"samples", 5.0, 1, 1000, true}},
               {{"current", true, "A"}, {"supply_voltage", true, "V"}}},
    .run = idle_current};

StepResult idle_current(Context& ctx, const plan::StepSpec& spec) {
    const int samples = count_param(spec, "samples", 1, 1000);
    if (auto s = co_await ctx.sleep(milliseconds(static_cast<long>(spec.number("settle_ms")))); !s) co_return s.error();
    std::vector<double> amps, volts;
    for (int i = 0; i < samples; ++i) {
        auto supply = co_await ctx.supply.read_supply();
        if (!supply) co_return supply.error();
        amps.push_back(supply->current_a);
        volts.push_back(supply->voltage_v);
        if (auto s = co_await ctx.sleep(milliseconds(20)); !s) co_return s.error();
    }
    sequencer::StepOutput out;
    out.push_back(number("current", stats(amps).mean, "A"));
    out.push_back(number("supply_voltage", stats(volts).mean, "V"));
    co_return out;
}

const StepKind vbat_accuracy_kind{
    .schema = {"power.vbat_accuracy", 5s,
               {{"samples", 5.0, 1, 1000, true}},
               {{"vbat_error", true, "V"}, {"vbat_fc", true, "V", false}, {"vbat_reference", true, "V", false}}},
    .run = vbat_accuracy};

StepResult vbat_accuracy(Context& ctx, const plan::StepSpec& spec) {
    const int samples = count_param(spec, "samples", 1, 1000);
    std::vector<double> fc_v, jig_v;
    for (int i = 0; i < samples; ++i) {
        auto battery = co_await ctx.fc.battery();
        if (!battery) co_return battery.error();
        auto supply = co_await ctx.supply.read_supply();
        if (!supply) co_return supply.error();
        fc_v.push_back(battery->voltage_v);
        jig_v.push_back(supply->voltage_v);
        if (auto s = co_await ctx.sleep(milliseconds(20)); !s) co_return s.error();
    }
    const double fc_mean = stats(fc_v).mean, jig_mean = stats(jig_v).mean;
    sequencer::StepOutput out;
    out.push_back(recorded("vbat_fc", fc_mean, "V"));
    out.push_back(recorded("vbat_reference", jig_mean, "V"));
    out.push_back(number("vbat_error", fc_mean - jig_mean, "V"));
    co_return out;
}

}  // namespace rig::steps

namespace rig::steps {

const StepKind power_supply_kind{
    .schema = {"power.supply", 15s,
               {{"settle_ms", 300.0, 0, 60000, true},
                {"samples", 5.0, 1, 1000, true},
                {"load_motor", 1.0, 0, 8, true},  // 0: no load phase
                {"load_throttle_pct", 30.0, 1, 60, false},
                {"spin_up_ms", 700.0, 0, 10000, true}},
               {{"inrush_current", true, "A"},
                {"inrush_samples", true, "", false},
                {"idle_current", true, "A"},
                {"supply_voltage", true, "V"},
                {"load_current", true, "A"},
                {"voltage_under_load", true, "V"},
                {"current_limited", false, ""},
                {"protection_tripped", false, ""}}},
    .run = power_supply};

namespace {
struct SupplyMeans {
    double volts = 0, amps = 0;
    bool limited = false;
};

asio::awaitable<Result<SupplyMeans>> sample_psu(Context& ctx, int samples) {
    std::vector<double> amps, volts;
    bool limited = false;
    for (int i = 0; i < samples; ++i) {
        auto r = co_await ctx.psu->measure();
        if (!r) co_return r.error();
        amps.push_back(r->current_a);
        volts.push_back(r->voltage_v);
        limited |= r->current_limited;
    }
    co_return SupplyMeans{stats(volts).mean, stats(amps).mean, limited};
}
}  // namespace

// The bench supply's view of the unit: the inrush captured at power-on, idle current and
// voltage, then one motor as a load: the voltage it sags to, and whether the supply had to limit
// current (a supply in CC mode starves every later step).
StepResult power_supply(Context& ctx, const plan::StepSpec& spec) {
    if (!ctx.psu) co_return make_error(Errc::invalid_argument, "this jig has no bench supply ([instruments.*] type = \"psu\")");
    const int samples = count_param(spec, "samples", 1, 1000), motor = count_param(spec, "load_motor", 0, 8);
    auto inrush = ctx.psu->inrush();
    if (!inrush) co_return inrush.error();
    sequencer::StepOutput out;
    out.push_back(number("inrush_current", inrush->peak_a, "A"));
    out.push_back(recorded("inrush_samples", inrush->samples, ""));
    if (auto s = co_await ctx.sleep(milliseconds(static_cast<long>(spec.number("settle_ms")))); !s) co_return s.error();
    auto idle = co_await sample_psu(ctx, samples);
    if (!idle) co_return idle.error();
    out.push_back(number("idle_current", idle->amps, "A"));
    out.push_back(number("supply_voltage", idle->volts, "V"));
    bool limited = idle->limited;
    if (motor > 0) {
        if (motor > ctx.fc.max_motors())
            co_return make_error(Errc::invalid_argument,
                                 fmt::format("step '{}': load_motor {} but the FC drives {}", spec.id, motor, ctx.fc.max_motors()));
        if (auto r = co_await ctx.fc.spin_motor(motor - 1, spec.number("load_throttle_pct")); !r) co_return r.error();
        if (auto s = co_await ctx.sleep(milliseconds(static_cast<long>(spec.number("spin_up_ms")))); !s) co_return s.error();
        auto load = co_await sample_psu(ctx, samples);
        if (!load) co_return load.error();
        if (auto r = co_await ctx.fc.stop_motors(); !r) co_return r.error();
        out.push_back(number("load_current", load->amps, "A"));
        out.push_back(number("voltage_under_load", load->volts, "V"));
        limited |= load->limited;
    }
    out.push_back(text("current_limited", limited ? "yes" : "no"));
    auto tripped = co_await ctx.psu->protection_tripped();
    if (!tripped) co_return tripped.error();
    out.push_back(text("protection_tripped", tripped->empty() ? "none" : *tripped));
    co_return out;
}

}  // namespace rig::steps
