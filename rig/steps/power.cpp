// power.idle_current and power.vbat_accuracy: the DUT supply against the jig's meter.
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
