#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

#include "rig/steps/steps.hpp"

namespace rig::steps {

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

int count_param(const plan::StepSpec& spec, const char* name, int lo, int hi) {
    const double v = spec.number(name);
    if (!(v >= lo && v <= hi)) throw std::invalid_argument(fmt::format("step '{}': param '{}' = {} outside {}..{}", spec.id, name, v, lo, hi));
    return static_cast<int>(v);
}

std::vector<double> rc_pattern(int channels) {
    // A distinct value on every channel, so a swap of any two shows, and all of them below
    // 1650 µs: no arm switch or throttle a flight controller could act on is ever high.
    std::vector<double> out;
    for (int i = 0; i < channels; ++i) out.push_back(1010.0 + 40.0 * i);
    return out;
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

sequencer::Registry make_registry(Context& ctx) {
    sequencer::Registry r;
    auto bind = [&ctx](StepResult (*f)(Context&, const plan::StepSpec&)) {
        return [&ctx, f](const plan::StepSpec& s) { return f(ctx, s); };
    };
    r["fc.identity"] = bind(fc_identity);
    r["fc.config"] = bind(fc_config);
    r["power.idle_current"] = bind(idle_current);
    r["power.vbat_accuracy"] = bind(vbat_accuracy);
    r["imu.static"] = bind(imu_static);
    r["baro.static"] = bind(baro_static);
    r["mag.static"] = bind(mag_static);
    r["motors.spin"] = bind(motors_spin);
    r["radio.link"] = bind(radio_link);
    r["radio.failsafe"] = bind(radio_failsafe);
    return r;
}

}  // namespace rig::steps
