// A SCPI instrument as a sans-IO session over a byte stream (raw socket on port 5025, or a
// serial line): one message at a time, as an instrument parses them. A query completes with its
// reply line; a command completes once written. SCPI replies carry no sequence number, so a
// reply that comes after its query timed out (or was cancelled) cannot be told from the next
// one's: after such a query the client drains the line for a quiet period before it sends again,
// and drops any reply that arrives with no query in flight (each a note).
#pragma once
#include <deque>
#include <optional>
#include <string>

#include "protocols/common/session.hpp"
#include "protocols/scpi/scpi.hpp"

namespace rig::scpi {

class Client final : public session::Session {
public:
    static constexpr session::Millis kDrain{300};  // quiet time after a lost reply

    // `text` without its terminator (LF is appended). A query (text with '?') completes with the
    // reply line without LF/CR; it is never re-sent (an instrument may act on it twice).
    session::RequestId query(std::string text, session::Millis timeout);
    // A command without reply (e.g. "VOLT 12.6"): completes with an empty payload once written.
    session::RequestId command(std::string text);

    void receive(ByteView bytes, session::Time now) override;
    std::optional<Bytes> transmit(session::Time now) override;
    std::optional<session::Time> deadline() const override;
    void tick(session::Time now) override;
    std::optional<session::Done> completed() override { return queue_.completed(); }
    void link_lost(const Error& why) override { queue_.fail_all(why); }
    void cancel(session::RequestId id) override;
    std::optional<std::string> note() override;

    std::uint64_t stray_replies() const { return stray_; }

private:
    void lost_reply(session::Time now);

    session::RequestQueue queue_;
    ResponseReader reader_;
    std::optional<session::Time> drain_until_;
    bool drain_pending_ = false;  // a cancelled query's reply may still come
    std::deque<std::string> notes_;
    std::uint64_t stray_ = 0;
};

}  // namespace rig::scpi
