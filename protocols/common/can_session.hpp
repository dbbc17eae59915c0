// A sans-IO session that speaks CAN frames rather than bytes (the DroneCAN node). A transport
// session (SLCAN over a tty; SocketCAN) carries its frames; time is passed in as values.
#pragma once
#include <optional>
#include <string>

#include "protocols/common/can_frame.hpp"
#include "protocols/common/session.hpp"

namespace rig {

class CanSession {
public:
    virtual ~CanSession() = default;
    virtual void receive(const CanFrame& frame, session::Time now) = 0;
    virtual std::optional<CanFrame> transmit(session::Time now) = 0;
    virtual std::optional<session::Time> deadline() const = 0;
    virtual void tick(session::Time now) = 0;
    virtual std::optional<session::Done> completed() = 0;
    virtual void link_lost(const Error& why) = 0;
    virtual void cancel(session::RequestId id) = 0;
    virtual std::optional<std::string> note() { return std::nullopt; }
};

}  // namespace rig
