// The MAVLink ground-station session (sans-IO), after the MAVLink microservices: a GCS
// HEARTBEAT every second; the autopilot found by its own HEARTBEAT and declared lost after 3 s
// of silence; commands one at a time (COMMAND_LONG, re-sent with confirmation+1, answered by
// COMMAND_ACK, IN_PROGRESS extending the wait); waits for the next message of an id; the
// parameter list fetched whole (PARAM_REQUEST_LIST, then PARAM_REQUEST_READ for each index
// still missing); and a command kept alive by re-sending it (the motor test's timeout).
#pragma once
#include <map>
#include <vector>

#include "protocols/common/session.hpp"
#include "protocols/mavlink/messages.hpp"

namespace rig::mavlink {

class Client final : public session::Session {
public:
    static constexpr session::Millis kHeartbeatPeriod{1000};
    static constexpr session::Millis kHeartbeatLost{3000};

    explicit Client(Header self = {0, 255, 190}) : self_(self) {}

    // Done: the COMMAND_ACK payload when ACCEPTED; else an error naming the command, the
    // result and the autopilot's latest STATUSTEXT.
    session::RequestId command(const CommandLong& c, session::Policy policy, session::Time now);
    // Done: the payload of the first message `msgid` from the autopilot received at or after
    // `since` (a cached one counts), or a timeout error.
    session::RequestId message(std::uint32_t msgid, session::Time since, session::Millis timeout, session::Time now);
    // Done: the whole parameter list as "NAME=VALUE\n" lines sorted by name.
    session::RequestId params(session::Policy policy, session::Time now);
    // Re-sends `c` every `period` (without waiting for its ACK) until cleared.
    void keep_command(std::optional<CommandLong> c, session::Millis period = session::Millis(1000));

    bool autopilot_known() const { return target_.has_value(); }
    Target target() const { return target_.value_or(Target{}); }
    const Heartbeat& autopilot_heartbeat() const { return heartbeat_; }
    std::size_t param_count() const { return params_ ? params_->values.size() : 0; }
    // The newest message `msgid` received at or after `since`, without waiting.
    std::optional<Bytes> latest(std::uint32_t msgid, session::Time since) const;
    // Integer parameters travel bytewise in the float field (else C-cast).
    bool params_bytewise() const;

    void receive(ByteView bytes, session::Time now) override;
    std::optional<Bytes> transmit(session::Time now) override;
    std::optional<session::Time> deadline() const override;
    void tick(session::Time now) override;
    std::optional<session::Done> completed() override;
    void link_lost(const Error& why) override;
    void cancel(session::RequestId id) override;
    std::optional<std::string> note() override;
    const DropCounters& dropped() const { return parser_.dropped(); }

private:
    struct Cmd {
        session::RequestId id;
        CommandLong command;
        session::Policy policy;
        int sent = 0;
        bool waiting = false;
        session::Time deadline;
    };
    struct Wait {
        session::RequestId id;
        std::uint32_t msgid;
        session::Time since, deadline;
    };
    struct ParamFetch {
        session::RequestId id;
        session::Policy policy;
        int rounds = 0;
        bool list_due = true;
        int count = -1;
        std::map<std::uint16_t, std::string> values;  // index -> "NAME=VALUE"
        std::vector<std::uint16_t> reads_due;
        session::Time deadline;
    };
    struct Cached {
        Bytes payload;
        session::Time at;
    };

    void on_frame(const FrameView& f, session::Time now);
    void on_ack(const CommandAck& ack, session::Time now);
    void on_param(const ParamValue& p, session::Time now);
    void param_round(session::Time now);
    void finish(session::RequestId id, Result<Bytes> r);
    Bytes frame(std::uint32_t msgid, const Bytes& payload);
    template <class M> Bytes frame(const M& m) { return frame(M::info.id, mavlink::payload(m)); }
    std::string recent_text(session::Time now) const;

    Header self_;
    Parser parser_;
    std::optional<Target> target_;
    Heartbeat heartbeat_;
    std::optional<session::Time> last_heartbeat_, next_gcs_heartbeat_;
    bool heartbeat_lost_ = false;
    std::deque<Cmd> commands_;
    std::vector<Wait> waits_;
    std::optional<ParamFetch> params_;
    std::optional<CommandLong> keep_;
    session::Millis keep_period_{1000};
    std::optional<session::Time> keep_due_;
    std::map<std::uint32_t, Cached> cache_;
    std::deque<Bytes> out_;
    std::deque<session::Done> done_;
    std::deque<std::string> notes_;
    std::string status_text_;
    session::Time status_text_at_{};
    session::RequestId next_id_ = 1;
};

}  // namespace rig::mavlink
