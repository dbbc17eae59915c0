// A Betaflight/INAV flight controller over MSP: identity, sensors, motor test.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>

#include "protocols/msp/messages.hpp"
#include "rig/devices/control.hpp"
#include "rig/io/stream.hpp"

namespace rig::devices {

namespace asio = boost::asio;

// How long one MSP request waits for its reply, and how often it is sent: a request lost to
// line noise is repeated, not failed.
struct MspTiming {
    std::chrono::milliseconds timeout{250};
    int attempts = 3;
};

class FcMsp {
public:

    using Timing = MspTiming;
    using Log = std::function<void(const std::string&)>;

    FcMsp(std::unique_ptr<io::Stream> stream, const RunControl& control, Log log = {});

    template <class T>
    asio::awaitable<Result<T>> get(Timing timing = Timing{}) {
        // A named request, not a temporary, around co_await (g++ 12 coroutine temporaries).
        const auto request = msp::make_request(T::command);
        auto f = co_await transact(request, false, timing);
        if (!f) co_return f.error();
        auto v = msp::decode<T>(*f);
        if (!v) co_return make_error(v.error().code, stream_->name() + ": " + v.error().message);
        co_return v;
    }

    asio::awaitable<Result<void>> set_motors(const msp::SetMotor& m);
    // Teardown path: all motors to stop, ignoring step deadline and abort.
    asio::awaitable<Result<void>> stop_motors();
    const std::string& port() const { return stream_->name(); }
    const msp::DropCounters& dropped() const { return parser_.dropped(); }

private:
    asio::awaitable<Result<msp::Frame>> transact(const msp::Frame& request, bool ignore_control, Timing timing = Timing{});
    std::unique_ptr<io::Stream> stream_;
    const RunControl& control_;
    Log log_;
    msp::Parser parser_;
};

}  // namespace rig::devices
