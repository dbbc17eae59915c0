// rigd as a systemd service (Type=notify, WatchdogSec=): READY once every nest is set up,
// STATUS with the nests and units as they change, WATCHDOG=1 from the io thread (a stalled
// loop stops the pings and systemd restarts rigd), STOPPING on a signal. Without
// NOTIFY_SOCKET (not under systemd) every call does nothing.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace rig::app {

class ServiceNotifier {
public:
    // status(): the STATUS line, asked on every tick and sent when it changed.
    ServiceNotifier(boost::asio::io_context& io, std::function<std::string()> status);
    ~ServiceNotifier();
    void ready();  // READY=1 with the first STATUS, from the io thread once the loop runs
    void stopping(const std::string& why);
    void stop();  // the last tick: the loop can finish
    // The watchdog interval systemd asked for (WATCHDOG_USEC, for this pid), zero if none.
    static std::chrono::microseconds watchdog_interval();
    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace rig::app
