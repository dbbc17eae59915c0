// The jig client session (sans-IO): one request in flight, matched by sequence number and
// command; a late reply to an earlier, timed-out request (or to the backup heartbeat thread's
// own sequence space) is dropped. A request with attempts > 1 is re-sent, under a new sequence
// number, when its reply is overdue (the protocol drops a damaged frame silently and expects the
// host to retry): only for idempotent commands, which the caller chooses. While the keepalive is on, a HEARTBEAT is due whenever the
// link has been quiet for the heartbeat period: the jig's watchdog cuts DUT power after 500 ms
// of silence. Heartbeat completions are flagged internal (RequestQueue::was_internal).
#pragma once
#include <deque>
#include <string>
#include <vector>
#include "protocols/common/session.hpp"
#include "protocols/jig/jig.hpp"

namespace rig::jig {

class Client final : public session::Session {
public:
    session::RequestId request(Command command, Bytes payload, session::Policy policy);

    // Keepalive: a HEARTBEAT (with `policy`) whenever nothing was sent for `period`.
    void keepalive(std::optional<session::Millis> period, session::Policy policy = {session::Millis(300), 1});
    bool is_heartbeat(session::RequestId id) const { return queue_.was_internal(id); }
    // Done: the status byte of the next STATUS_CHANGED event (sent by the jig unsolicited when
    // the lid, DUT presence or DUT power changes), or a timeout error. Events can be lost on the
    // wire and version-1 jigs without events send none: callers re-read the status on timeout.
    session::RequestId status_event(session::Millis timeout, session::Time now);
    // Ends every event wait now with `why` (shutdown).
    void fail_event_waits(const Error& why);

    void receive(ByteView bytes, session::Time now) override;
    std::optional<Bytes> transmit(session::Time now) override;
    std::optional<session::Time> deadline() const override;
    void tick(session::Time now) override;
    std::optional<session::Done> completed() override;
    void link_lost(const Error& why) override;
    void cancel(session::RequestId id) override;
    std::optional<std::string> note() override;

    const DropCounters& dropped() const { return parser_.dropped(); }
    std::uint64_t stale_replies() const { return stale_; }
    std::uint64_t retries() const { return retries_; }
    std::optional<session::Time> last_sent() const { return last_sent_; }

private:
    Parser parser_;
    session::RequestQueue queue_;
    std::uint8_t seq_ = 0;
    std::uint8_t in_flight_seq_ = 0;
    std::optional<session::Millis> heartbeat_period_;
    session::Policy heartbeat_policy_;
    std::optional<session::Time> last_sent_;
    std::uint64_t stale_ = 0;
    std::uint64_t retries_ = 0;
    std::deque<std::string> notes_;
    struct EventWait {
        session::RequestId id;
        session::Time deadline;
    };
    static constexpr session::RequestId kEventBit = session::RequestId{1} << 62;
    std::vector<EventWait> event_waits_;
    std::deque<session::Done> event_done_;
    session::RequestId next_event_ = 1;
};

}  // namespace rig::jig
