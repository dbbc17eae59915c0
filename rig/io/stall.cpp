#include "rig/io/stall.hpp"

#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace rig::io {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

double steal_ms() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    long long v[8] = {};
    if (!(in >> cpu) || cpu != "cpu") return -1;
    for (auto& x : v)
        if (!(in >> x)) return -1;
    const long hz = ::sysconf(_SC_CLK_TCK);
    return hz > 0 ? 1000.0 * static_cast<double>(v[7]) / static_cast<double>(hz) : -1;  // user nice system idle iowait irq softirq steal
}

struct StallWatch::Impl {
    asio::steady_timer timer;
    Clock::duration period, threshold;
    Log log;
    Clock::time_point due;
    double steal_at_tick = -1;
    bool stopped = false;

    Impl(asio::any_io_executor ex, Clock::duration p, Clock::duration t, Log l) : timer(ex), period(p), threshold(t), log(std::move(l)) {}

    static void arm(const std::shared_ptr<Impl>& self) {
        self->due = Clock::now() + self->period;
        self->steal_at_tick = steal_ms();
        self->timer.expires_at(self->due);
        self->timer.async_wait([self](const boost::system::error_code& ec) {
            if (ec || self->stopped) return;
            const auto late = Clock::now() - self->due;
            if (late > self->threshold && self->log) {
                const double now_steal = steal_ms();
                const double stolen = now_steal >= 0 && self->steal_at_tick >= 0 ? now_steal - self->steal_at_tick : -1;
                self->log(fmt::format("event=io_stall late_ms={:.0f} host_steal_ms={}", std::chrono::duration<double, std::milli>(late).count(),
                                      stolen >= 0 ? fmt::format("{:.0f}", stolen) : std::string("unknown")));
            }
            arm(self);
        });
    }
};

StallWatch::StallWatch(asio::any_io_executor ex, std::chrono::milliseconds period, std::chrono::milliseconds threshold, Log log)
    : impl_(std::make_shared<Impl>(std::move(ex), period, threshold, std::move(log))) {
    Impl::arm(impl_);
}

StallWatch::~StallWatch() { stop(); }

void StallWatch::stop() {
    if (!impl_ || impl_->stopped) return;
    impl_->stopped = true;
    impl_->timer.cancel();
}

}  // namespace rig::io
