#include "rig/app/service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <systemd/sd-daemon.h>

namespace rig::app {

namespace asio = boost::asio;

struct ServiceNotifier::Impl {
    asio::io_context& io;
    asio::steady_timer timer;
    std::function<std::string()> status;
    std::chrono::microseconds watchdog;
    std::chrono::milliseconds period;
    std::string sent_status;
    bool enabled, running = false;

    Impl(asio::io_context& i, std::function<std::string()> s)
        : io(i), timer(i), status(std::move(s)), watchdog(watchdog_interval()),
          // Pings at a third of the watchdog's time (systemd advises half at most); STATUS
          // follows the nests within a second.
          period(watchdog.count() > 0 ? std::min<std::chrono::milliseconds>(std::chrono::milliseconds(1000),
                                                                            std::chrono::duration_cast<std::chrono::milliseconds>(watchdog / 3))
                                      : std::chrono::milliseconds(1000)),
          enabled(std::getenv("NOTIFY_SOCKET") != nullptr) {}

    void notify(const std::string& text) { sd_notify(0, text.c_str()); }

    void tick() {
        std::string message;
        if (watchdog.count() > 0) message += "WATCHDOG=1\n";
        auto s = status();
        if (s != sent_status) {
            message += "STATUS=" + s + "\n";
            sent_status = std::move(s);
        }
        if (!message.empty()) notify(message);
        timer.expires_after(period);
        timer.async_wait([this](const boost::system::error_code& e) {
            if (!e && running) tick();
        });
    }
};

ServiceNotifier::ServiceNotifier(asio::io_context& io, std::function<std::string()> status)
    : impl_(std::make_unique<Impl>(io, std::move(status))) {}
ServiceNotifier::~ServiceNotifier() = default;

std::chrono::microseconds ServiceNotifier::watchdog_interval() {
    std::uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? std::chrono::microseconds(usec) : std::chrono::microseconds(0);
}

void ServiceNotifier::ready() {
    if (!impl_->enabled) return;
    impl_->running = true;
    asio::post(impl_->io, [i = impl_.get()] {
        i->sent_status = i->status();
        i->notify("READY=1\nSTATUS=" + i->sent_status + "\nMAINPID=" + std::to_string(getpid()));
        i->tick();
    });
}

void ServiceNotifier::stopping(const std::string& why) {
    if (impl_->enabled) impl_->notify("STOPPING=1\nSTATUS=stopping: " + why);
    impl_->sent_status = "stopping: " + why;
}

void ServiceNotifier::stop() {
    impl_->running = false;
    impl_->timer.cancel();
}

}  // namespace rig::app
