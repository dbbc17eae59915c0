// The one I/O pump: drives any sans-IO session (protocols/*/client) over any Stream. It writes
// what the session has to send, feeds it what the stream reads, calls tick() at the session's
// own deadline, and hands each completion to the coroutine waiting for it. No polling: every
// wait is a read, a write or a timer. Asio stays in pump.cpp.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>

#include "protocols/common/session.hpp"
#include "rig/io/stream.hpp"

namespace rig::io {

class Pump {
public:
    using Log = std::function<void(const std::string&)>;
    using Unclaimed = std::function<void(session::Done&&)>;

    // Owns the stream; the session outlives the pump (its owner holds both).
    Pump(asio::any_io_executor ex, std::unique_ptr<Stream> stream, session::Session& session, Log log = {});
    ~Pump();  // closes the stream; the pump's coroutines end on their own

    // Waits for request `id` (already queued in the session) to complete; sends it first. The
    // session's policy bounds the wait; a lost link completes it with the link's error.
    asio::awaitable<Result<Bytes>> wait(session::RequestId id);
    // The session has new output or an earlier deadline (e.g. the keepalive was switched on).
    void kick();
    // Completions nobody waits for (the jig's heartbeats).
    void on_unclaimed(Unclaimed f);
    // Called after every write and every read: the io thread is alive.
    void on_activity(std::function<void()> f);
    Stream& stream();
    const std::string& name() const;
    // The link's error once the stream failed, else empty.
    const std::string& lost() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace rig::io
