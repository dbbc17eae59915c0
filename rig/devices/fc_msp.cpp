#include "rig/devices/fc_msp.hpp"

#include <array>
#include <fmt/format.h>

namespace rig::devices {

FcMsp::FcMsp(std::unique_ptr<io::Stream> stream, const RunControl& control, Log log)
    : stream_(std::move(stream)), control_(control), log_(std::move(log)) {}

asio::awaitable<Result<msp::Frame>> FcMsp::transact(const msp::Frame& request, bool ignore_control, Timing timing) {
    const auto wire = msp::encode(request);
    Error last = make_error(Errc::timeout, "");
    for (int attempt = 0; attempt < timing.attempts; ++attempt) {
        if (attempt > 0 && log_) log_(fmt::format("fc={} event=msp_retry command=\"{}\" attempt={}", stream_->name(), msp::command_name(request.command), attempt + 1));
        auto timeout = timing.timeout;
        if (!ignore_control) {
            auto b = control_.budget(timing.timeout);
            if (!b) co_return b.error();
            timeout = *b;
        }
        auto sent = co_await stream_->write(wire, timeout);
        if (!sent) co_return sent.error();
        const auto started = Clock::now();
        std::array<std::byte, 512> buf{};
        for (;;) {
            const auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
            if (left.count() <= 0) break;
            auto n = co_await stream_->read_some(buf, left);
            if (!n) {
                if (n.error().code == Errc::timeout) break;
                co_return n.error();  // the port is gone: no retry helps
            }
            for (auto& f : parser_.feed(ByteView(buf.data(), *n))) {
                // One request at a time (Betaflight processes one command at a time), so a reply to
                // another command is a stale one from a request that timed out: skip it.
                if (f.command != request.command || f.dir == msp::Direction::request) continue;
                co_return std::move(f);
            }
        }
        last = make_error(Errc::timeout, fmt::format("{}: flight controller did not answer {} within {} ms ({} attempt{})", stream_->name(),
                                                     msp::command_name(request.command), timing.timeout.count(), attempt + 1, attempt ? "s" : ""));
    }
    co_return last;
}

asio::awaitable<Result<void>> FcMsp::set_motors(const msp::SetMotor& m) {
    const auto request = msp::make_request(msp::cmd::set_motor, m.encode());
    auto f = co_await transact(request, false);
    if (!f) co_return f.error();
    if (f->dir == msp::Direction::error) co_return make_error(Errc::protocol_error, port() + ": flight controller refused MSP_SET_MOTOR (214)");
    co_return Result<void>{};
}

asio::awaitable<Result<void>> FcMsp::stop_motors() {
    const auto request = msp::make_request(msp::cmd::set_motor, msp::SetMotor::all_stopped().encode());
    auto f = co_await transact(request, true);
    if (!f) co_return f.error();
    if (f->dir == msp::Direction::error) co_return make_error(Errc::protocol_error, port() + ": flight controller refused MSP_SET_MOTOR stop");
    co_return Result<void>{};
}

}  // namespace rig::devices
