// An SLCAN (Lawicel) adapter as a byte-stream session carrying a frame-level CAN session: it
// opens the channel first (C, then the bitrate S0..S8, then O, each answered by CR or refused
// by BELL), then turns the inner session's frames into 't'/'T' lines and the adapter's lines back
// into frames. Sans-IO; rig/io/pump drives it over the adapter's tty.
#pragma once
#include <deque>
#include <optional>
#include <string>

#include "protocols/common/can_session.hpp"
#include "protocols/slcan/slcan.hpp"

namespace rig::slcan {

class Link final : public session::Session {
public:
    static constexpr session::Millis kCommandTimeout{500};
    // Completes (empty payload) once the channel is open, or with the reason it could not be:
    // the opener waits for it like for any request.
    static constexpr session::RequestId kOpened = ~session::RequestId{0};

    // Throws std::invalid_argument for a bitrate with no SLCAN code (S0..S8).
    Link(CanSession& inner, unsigned bitrate);

    bool open() const { return state_ == State::open; }
    // Why the adapter could not be opened (then every request of the inner session failed).
    const std::optional<std::string>& failed() const { return failed_; }

    void receive(ByteView bytes, session::Time now) override;
    std::optional<Bytes> transmit(session::Time now) override;
    std::optional<session::Time> deadline() const override;
    void tick(session::Time now) override;
    std::optional<session::Done> completed() override;
    void link_lost(const Error& why) override { inner_.link_lost(why); }
    void cancel(session::RequestId id) override { inner_.cancel(id); }
    std::optional<std::string> note() override;

private:
    enum class State { closing, bitrate, opening, open, failed };
    void fail(const std::string& why);
    std::string command_for(State s) const;

    CanSession& inner_;
    unsigned bitrate_;
    std::string bitrate_command_;
    State state_ = State::closing;
    bool command_sent_ = false;
    session::Time command_deadline_{};
    Parser parser_;
    std::optional<std::string> failed_;
    std::optional<session::Done> opened_;
    std::deque<std::string> notes_;
};

}  // namespace rig::slcan
