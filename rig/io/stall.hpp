// The io thread watching itself: a tick every period, and a log line when a tick comes late by
// more than the threshold (the thread was blocked, or waited for a core), with the CPU time the
// hypervisor took from this virtual machine meanwhile (steal, from /proc/stat). Every nest's
// timing rests on that thread; a stall is what turns a 300 ms timeout into a false abort, and
// this says when and, on a VM, whether the host was the cause.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace rig::io {

class StallWatch {
public:
    using Log = std::function<void(const std::string&)>;
    StallWatch(boost::asio::any_io_executor ex, std::chrono::milliseconds period, std::chrono::milliseconds threshold, Log log);
    ~StallWatch();
    StallWatch(const StallWatch&) = delete;
    StallWatch& operator=(const StallWatch&) = delete;
    void stop();  // no tick pending after this: the io_context can run out of work

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

// The host's steal time so far, in ms summed over CPUs (/proc/stat); -1 when unknown.
double steal_ms();

}  // namespace rig::io
