// The sans-IO session: what a protocol client is to the I/O pump (rig/io/pump). Bytes in, bytes
// out, completions out, and time passed in as values: a session never reads a clock, never
// blocks and never touches a file descriptor, so its whole behaviour (reply matching, retries,
// stale replies, heartbeats due, deadlines) is unit-tested and fuzzed without Asio.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"

namespace rig::session {

using Time = std::chrono::steady_clock::time_point;  // a value handed in; never read here
using Millis = std::chrono::milliseconds;
using RequestId = std::uint64_t;

// How long one request waits for its reply, and how often it is sent in all: a request lost to
// line noise is repeated, not failed.
struct Policy {
    Millis timeout{250};
    int attempts = 1;
};

// A finished request: the reply's payload, or why there is none.
struct Done {
    RequestId id = 0;
    Result<Bytes> reply = Bytes{};
};

class Session {
public:
    virtual ~Session() = default;
    // Bytes read from the link.
    virtual void receive(ByteView bytes, Time now) = 0;
    // The next bytes to write, until nullopt.
    virtual std::optional<Bytes> transmit(Time now) = 0;
    // When tick() must next be called (a reply overdue, a heartbeat due); nullopt: never.
    virtual std::optional<Time> deadline() const = 0;
    virtual void tick(Time now) = 0;
    // The next finished request, until nullopt.
    virtual std::optional<Done> completed() = 0;
    // The link is gone: every pending request fails with `why`.
    virtual void link_lost(const Error& why) = 0;
    // The caller gave up on a request (its own deadline passed): forget it.
    virtual void cancel(RequestId id) = 0;
    // A log line worth keeping (a retry, a stale reply dropped), until nullopt.
    virtual std::optional<std::string> note() { return std::nullopt; }
};

// The bookkeeping every request/response client shares: a FIFO of requests with one in flight
// (the devices rig talks to serve one request at a time), its deadline, its retries and the
// completions. The client encodes and matches; this decides when.
class RequestQueue {
public:
    struct Entry {
        RequestId id = 0;
        Policy policy;
        int sent = 0;       // attempts sent so far
        bool waiting = false;  // sent, reply not yet in
        Time deadline{};
        std::uint32_t key = 0;  // the client's match key (command, sequence...)
        Bytes payload;          // the client's request body
        bool internal = false;  // the client's own (a heartbeat): completed too, flagged
    };

    RequestId push(std::uint32_t key, Bytes payload, Policy policy, bool internal = false);
    // The request to (re)send now, marked sent with its deadline; nullptr when one is in flight.
    Entry* to_send(Time now);
    // The request awaiting its reply, if any.
    Entry* in_flight();
    const Entry* front() const { return queue_.empty() ? nullptr : &queue_.front(); }
    bool empty() const { return queue_.empty(); }
    // Completes the in-flight request.
    void complete(Result<Bytes> reply);
    // A passed deadline: the in-flight request is re-sent, or failed with `timeout_error` when
    // it has used its attempts. Returns true when it will be re-sent.
    bool expire(Time now, const std::function<Error(const Entry&)>& timeout_error);
    std::optional<Time> deadline() const;
    void fail_all(const Error& why);
    void cancel(RequestId id);
    // Forgets the client's own requests that were not sent yet (a heartbeat after keepalive off).
    void drop_unsent_internal();
    std::optional<Done> completed();
    bool was_internal(RequestId id) const { return id & kInternalBit; }

    static constexpr RequestId kInternalBit = RequestId{1} << 63;

private:
    std::deque<Entry> queue_;
    std::deque<Done> done_;
    RequestId next_ = 1;
};

}  // namespace rig::session
