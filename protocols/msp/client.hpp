// The MSP client session (sans-IO): one request in flight, as Betaflight's serial task serves
// them; a reply is matched by command, and a reply to any other command is a stale answer to a
// request that timed out earlier: dropped. A request not answered in time is sent again.
#pragma once
#include "protocols/common/session.hpp"
#include "protocols/msp/frame.hpp"

namespace rig::msp {

class Client final : public session::Session {
public:
    explicit Client(std::size_t max_payload = Parser::kDefaultMaxPayload) : parser_(max_payload) {}

    session::RequestId request(std::uint16_t command, Bytes payload, session::Policy policy);

    void receive(ByteView bytes, session::Time now) override;
    std::optional<Bytes> transmit(session::Time now) override;
    std::optional<session::Time> deadline() const override { return queue_.deadline(); }
    void tick(session::Time now) override;
    std::optional<session::Done> completed() override { return queue_.completed(); }
    void link_lost(const Error& why) override { queue_.fail_all(why); }
    void cancel(session::RequestId id) override { queue_.cancel(id); }
    std::optional<std::string> note() override;

    const DropCounters& dropped() const { return parser_.dropped(); }
    std::uint64_t stale_replies() const { return stale_; }
    std::uint64_t retries() const { return retries_; }

private:
    Parser parser_;
    session::RequestQueue queue_;
    std::deque<std::string> notes_;
    std::uint64_t stale_ = 0, retries_ = 0;
};

}  // namespace rig::msp
