#include "rig/steps/steps.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace rig::steps {

using sequencer::Measured;
using sequencer::StepOutput;
using namespace std::chrono;

Stats stats(const std::vector<double>& v) {
    Stats s;
    if (v.empty()) {
        s.mean = s.stddev = s.min = s.max = std::nan("");
        return s;
    }
    s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double sq = 0;
    for (double x : v) sq += (x - s.mean) * (x - s.mean);
    s.stddev = v.size() > 1 ? std::sqrt(sq / static_cast<double>(v.size() - 1)) : 0.0;
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    s.min = *lo;
    s.max = *hi;
    return s;
}

double spread_pct(const std::vector<double>& v) {
    auto s = stats(v);
    if (v.empty() || s.mean <= 0) return std::nan("");
    return (s.max - s.min) / s.mean * 100.0;
}

asio::awaitable<Result<void>> Context::sleep(milliseconds d) {
    // In slices, so an abort or the step deadline ends the dwell promptly.
    const auto until = steady_clock::now() + d;
    asio::steady_timer t(co_await asio::this_coro::executor);
    while (steady_clock::now() < until) {
        auto b = control.budget(milliseconds(50));
        if (!b) co_return b.error();
        t.expires_after(std::min<steady_clock::duration>(*b, until - steady_clock::now()));
        co_await t.async_wait(asio::use_awaitable);
    }
    co_return Result<void>{};
}

namespace {
constexpr auto kBootPoll = milliseconds(40);  // Betaflight answers in ~10 ms once up

int count_param(const plan::StepSpec& spec, const char* name, int lo, int hi) {
    const double v = spec.number(name);
    if (!(v >= lo && v <= hi)) throw std::invalid_argument(fmt::format("step '{}': param '{}' = {} outside {}..{}", spec.id, name, v, lo, hi));
    return static_cast<int>(v);
}
}  // namespace

asio::awaitable<Result<StepOutput>> fc_identity(Context& ctx, const plan::StepSpec& spec) {
    (void)spec;
    // The FC is booting right after DUT power-on: ask often, with a short wait each, until it
    // answers or the step's deadline (its boot budget) passes. A long per-request timeout would
    // waste most of it after the FC is already up.
    Result<msp::ApiVersion> api = make_error(Errc::timeout, "");
    for (;;) {
        api = co_await ctx.fc.get<msp::ApiVersion>({kBootPoll, 1});
        if (api || api.error().code != Errc::timeout) break;
        if (auto b = ctx.control.budget(milliseconds(1)); !b)
            co_return make_error(Errc::timeout, fmt::format("{}: flight controller did not answer after power-on", ctx.fc.port()));
    }
    if (!api) co_return api.error();
    auto variant = co_await ctx.fc.get<msp::FcVariant>();
    if (!variant) co_return variant.error();
    auto version = co_await ctx.fc.get<msp::FcVersion>();
    if (!version) co_return version.error();
    auto board = co_await ctx.fc.get<msp::BoardInfo>();
    if (!board) co_return board.error();
    auto uid = co_await ctx.fc.get<msp::Uid>();
    if (!uid) co_return uid.error();

    ctx.dut.firmware = fmt::format("{} {}", variant->identifier, version->text());
    ctx.dut.board = board->board_id;
    ctx.dut.uid = uid->hex();
    StepOutput out;
    out.push_back({"fc_variant", "fc_variant", 0, "", variant->identifier, true});
    out.push_back({"firmware", "firmware", 0, "", version->text(), true});
    out.push_back({"board", "board", 0, "", board->board_id, true});
    out.push_back({"uid", "uid", 0, "", uid->hex(), true});
    out.push_back({"api_version", "api_version", api->major + api->minor / 100.0, "", "", false});
    // BOARD_INFO's problem bits (bit0: accelerometer needs calibration, bit1: motor protocol
    // disabled): a unit that leaves the line with either set flies badly or not at all.
    out.push_back({"config_problems", "config_problems", static_cast<double>(board->configuration_problems), "", "", false});
    co_return out;
}

asio::awaitable<Result<StepOutput>> idle_current(Context& ctx, const plan::StepSpec& spec) {
    const int samples = count_param(spec, "samples", 1, 1000);
    if (auto s = co_await ctx.sleep(milliseconds(static_cast<long>(spec.number("settle_ms")))); !s) co_return s.error();
    std::vector<double> amps, volts;
    for (int i = 0; i < samples; ++i) {
        auto supply = co_await ctx.jig.read_supply();
        if (!supply) co_return supply.error();
        amps.push_back(supply->current_a);
        volts.push_back(supply->voltage_v);
        if (auto s = co_await ctx.sleep(milliseconds(20)); !s) co_return s.error();
    }
    StepOutput out;
    out.push_back({"current", "current", stats(amps).mean, "A", "", false});
    out.push_back({"supply_voltage", "supply_voltage", stats(volts).mean, "V", "", false});
    co_return out;
}

asio::awaitable<Result<StepOutput>> vbat_accuracy(Context& ctx, const plan::StepSpec& spec) {
    const int samples = count_param(spec, "samples", 1, 1000);
    std::vector<double> fc_v, jig_v;
    for (int i = 0; i < samples; ++i) {
        auto analog = co_await ctx.fc.get<msp::Analog>();
        if (!analog) co_return analog.error();
        auto supply = co_await ctx.jig.read_supply();
        if (!supply) co_return supply.error();
        fc_v.push_back(analog->vbat_v);
        jig_v.push_back(supply->voltage_v);
        if (auto s = co_await ctx.sleep(milliseconds(20)); !s) co_return s.error();
    }
    const double fc_mean = stats(fc_v).mean, jig_mean = stats(jig_v).mean;
    StepOutput out;
    out.push_back({"vbat_fc", "", fc_mean, "V", "", false});
    out.push_back({"vbat_reference", "", jig_mean, "V", "", false});
    out.push_back({"vbat_error", "vbat_error", fc_mean - jig_mean, "V", "", false});
    co_return out;
}

asio::awaitable<Result<StepOutput>> imu_static(Context& ctx, const plan::StepSpec& spec) {
    const int samples = count_param(spec, "samples", 2, 10000);
    const double acc_1g = spec.number("acc_1g");
    const double counts_per_dps = spec.number("gyro_counts_per_dps");
    if (!(acc_1g > 0) || !(counts_per_dps > 0))
        throw std::invalid_argument(fmt::format("step '{}': acc_1g and gyro_counts_per_dps must be positive", spec.id));
    std::array<std::vector<double>, 3> acc, gyro;
    for (int i = 0; i < samples; ++i) {
        auto imu = co_await ctx.fc.get<msp::RawImu>();
        if (!imu) co_return imu.error();
        for (int a = 0; a < 3; ++a) {
            acc[a].push_back(imu->acc[a]);
            gyro[a].push_back(imu->gyro[a] / counts_per_dps);
        }
        if (auto s = co_await ctx.sleep(milliseconds(5)); !s) co_return s.error();
    }
    double sum_sq = 0, noise = 0, bias = 0;
    for (int a = 0; a < 3; ++a) {
        const double m = stats(acc[a]).mean / acc_1g;
        sum_sq += m * m;
        const auto g = stats(gyro[a]);
        noise = std::max(noise, g.stddev);
        if (std::abs(g.mean) > std::abs(bias)) bias = g.mean;
    }
    StepOutput out;
    out.push_back({"acc_magnitude", "acc_magnitude", std::sqrt(sum_sq), "g", "", false});
    out.push_back({"gyro_noise", "gyro_noise", noise, "dps", "", false});
    out.push_back({"gyro_bias", "gyro_bias", bias, "dps", "", false});
    co_return out;
}

asio::awaitable<Result<StepOutput>> motors_spin(Context& ctx, const plan::StepSpec& spec) {
    const int motors = count_param(spec, "motors", 1, static_cast<int>(msp::kMaxMotors));
    const int samples = count_param(spec, "samples", 1, 1000);
    const double throttle_pct = spec.number("throttle_pct");
    if (!(throttle_pct > 0 && throttle_pct <= 100))
        throw std::invalid_argument(fmt::format("step '{}': throttle_pct {} outside (0, 100]", spec.id, throttle_pct));
    const auto spin_up = milliseconds(static_cast<long>(spec.number("spin_up_ms")));
    const auto command = static_cast<std::uint16_t>(msp::kMotorStop + std::lround(throttle_pct * 10.0));

    // Without bidirectional DShot or an ESC sensor, Betaflight answers MOTOR_TELEMETRY with
    // zeros: that is no measurement, and recording "rpm 0" would blame the motor.
    auto config = co_await ctx.fc.get<msp::MotorConfig>();
    if (!config) co_return config.error();
    if (config->has_telemetry_fields && !config->telemetry_source())
        co_return make_error(Errc::invalid_argument,
                             fmt::format("{}: no motor telemetry source: the flight controller reports use_dshot_telemetry 0 and esc_sensor 0 "
                                         "(MSP_MOTOR_CONFIG); enable bidirectional DShot (set dshot_bidir = ON) or the ESC sensor feature",
                                         ctx.fc.port()));
    StepOutput out;
    std::vector<double> rpms;
    for (int m = 0; m < motors; ++m) {
        auto set = msp::SetMotor::all_stopped();
        set.value[m] = command;
        if (auto r = co_await ctx.fc.set_motors(set); !r) co_return r.error();
        if (auto s = co_await ctx.sleep(spin_up); !s) co_return s.error();
        std::vector<double> rpm, amps;
        for (int i = 0; i < samples; ++i) {
            auto t = co_await ctx.fc.get<msp::MotorTelemetry>();
            if (!t) co_return t.error();
            if (static_cast<int>(t->motors.size()) <= m)
                co_return make_error(Errc::protocol_error, fmt::format("{}: motor telemetry reports {} motors, plan needs {}", ctx.fc.port(), t->motors.size(), motors));
            // invalid_pct 100 % is Betaflight's "no valid telemetry packet yet": not a reading.
            if (t->motors[m].invalid_pct >= 100.0)
                co_return make_error(Errc::protocol_error, fmt::format("{}: motor {} telemetry is silent (MSP_MOTOR_TELEMETRY invalid 100 %): check "
                                                                       "bidirectional DShot on this ESC", ctx.fc.port(), m + 1));
            rpm.push_back(t->motors[m].rpm);
            amps.push_back(t->motors[m].current_a);
            if (auto s = co_await ctx.sleep(milliseconds(40)); !s) co_return s.error();
        }
        if (auto r = co_await ctx.fc.set_motors(msp::SetMotor::all_stopped()); !r) co_return r.error();
        const double mean_rpm = stats(rpm).mean;
        rpms.push_back(mean_rpm);
        out.push_back({fmt::format("motor{}.rpm", m + 1), "rpm", mean_rpm, "rpm", "", false});
        out.push_back({fmt::format("motor{}.current", m + 1), "current", stats(amps).mean, "A", "", false});
        // Let the motor wind down before the next one so telemetry is not confused by coasting.
        if (auto s = co_await ctx.sleep(milliseconds(200)); !s) co_return s.error();
    }
    out.push_back({"rpm_spread", "rpm_spread", spread_pct(rpms), "%", "", false});
    co_return out;
}

sequencer::Registry make_registry(Context& ctx) {
    sequencer::Registry r;
    r["fc.identity"] = [&ctx](const plan::StepSpec& s) { return fc_identity(ctx, s); };
    r["power.idle_current"] = [&ctx](const plan::StepSpec& s) { return idle_current(ctx, s); };
    r["power.vbat_accuracy"] = [&ctx](const plan::StepSpec& s) { return vbat_accuracy(ctx, s); };
    r["imu.static"] = [&ctx](const plan::StepSpec& s) { return imu_static(ctx, s); };
    r["motors.spin"] = [&ctx](const plan::StepSpec& s) { return motors_spin(ctx, s); };
    return r;
}

}  // namespace rig::steps
