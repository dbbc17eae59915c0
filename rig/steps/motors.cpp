// motors.spin: each motor alone at a throttle, its rpm and current from the ESC telemetry.
#include <fmt/format.h>

#include "rig/steps/measure.hpp"
#include "rig/steps/steps.hpp"

namespace rig::steps {

using namespace std::chrono;

// rpm and current are judged per motor (motor1.rpm, ... against the one limit 'rpm').
const StepKind motors_spin_kind{
    .schema = {"motors.spin", 20s,
               {{"motors", 4.0, 1, 8, true}, {"throttle_pct", 30.0, 1, 100}, {"spin_up_ms", 700.0, 0, 30000, true}, {"samples", 5.0, 1, 1000, true}},
               {{"rpm", true, "rpm"}, {"rpm_spread", true, "%"}, {"current", true, "A"}, {"motor_telemetry", false, ""}}},
    .run = motors_spin};

StepResult motors_spin(Context& ctx, const plan::StepSpec& spec) {
    const int motors = count_param(spec, "motors", 1, ctx.fc.max_motors());
    const int samples = count_param(spec, "samples", 1, 1000);
    const double throttle_pct = spec.number("throttle_pct");
    if (!(throttle_pct > 0 && throttle_pct <= 100))
        throw std::invalid_argument(fmt::format("step '{}': throttle_pct {} outside (0, 100]", spec.id, throttle_pct));
    const auto spin_up = milliseconds(static_cast<long>(spec.number("spin_up_ms")));

    // No telemetry source configured is the unit's fault (its ESC telemetry is off): it fails
    // here, with the reason, and no rpm is recorded against a motor that was never measured.
    sequencer::StepOutput out;
    if (auto source = co_await ctx.fc.check_motor_telemetry(); !source) {
        if (source.error().code != Errc::invalid_argument) co_return source.error();
        out.push_back(text("motor_telemetry", "none (" + source.error().message + ")"));
        co_return out;
    }
    out.push_back(text("motor_telemetry", "present"));
    std::vector<double> rpms;
    for (int m = 0; m < motors; ++m) {
        if (auto r = co_await ctx.fc.spin_motor(m, throttle_pct); !r) co_return r.error();
        if (auto s = co_await ctx.sleep(spin_up); !s) co_return s.error();
        std::vector<double> rpm, amps;
        for (int i = 0; i < samples; ++i) {
            auto t = co_await ctx.fc.motor_telemetry(m);
            if (!t) co_return t.error();
            rpm.push_back(t->rpm);
            amps.push_back(t->current_a);
            if (auto s = co_await ctx.sleep(milliseconds(40)); !s) co_return s.error();
        }
        // The sequencer's safe state stops the motors on every other way out of this step.
        if (auto r = co_await ctx.fc.stop_motors(); !r) co_return r.error();
        const double mean_rpm = stats(rpm).mean;
        rpms.push_back(mean_rpm);
        out.push_back(number(fmt::format("motor{}.rpm", m + 1), mean_rpm, "rpm", "rpm"));
        out.push_back(number(fmt::format("motor{}.current", m + 1), stats(amps).mean, "A", "current"));
        // Let the motor wind down before the next one so telemetry is not confused by coasting.
        if (auto s = co_await ctx.sleep(milliseconds(200)); !s) co_return s.error();
    }
    out.push_back(number("rpm_spread", spread_pct(rpms), "%"));
    co_return out;
}

}  // namespace rig::steps
