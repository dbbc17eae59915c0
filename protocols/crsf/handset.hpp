// The handset side of a CRSF link (sans-IO): what the jig's reference transmitter module is
// fed. RC_CHANNELS_PACKED is due every frame period while channels are set (>= 50 Hz), the
// module's LINK_STATISTICS are kept with their arrival time, and DEVICE_PING through the link
// is answered by the receiver's DEVICE_INFO.
#pragma once
#include <array>

#include "protocols/common/session.hpp"
#include "protocols/crsf/crsf.hpp"

namespace rig::crsf {

class Handset final : public session::Session {
public:
    static constexpr session::Millis kDefaultPeriod{10};  // 100 Hz

    // Streams these channels (ticks) every `period`, or stops the stream (nullopt).
    void channels(std::optional<std::array<std::uint16_t, 16>> ticks, session::Millis period = kDefaultPeriod);
    bool streaming() const { return ticks_.has_value(); }
    // Done: the DEVICE_INFO payload of device `dest` (the receiver, 0xEC), pinged through the link.
    session::RequestId ping(std::uint8_t dest, session::Policy policy, session::Time now);
    // Done: the payload of the first LINK_STATISTICS received at or after `since`.
    session::RequestId link_statistics(session::Time since, session::Millis timeout, session::Time now);
    std::uint64_t rc_frames_sent() const { return rc_sent_; }

    void receive(ByteView bytes, session::Time now) override;
    std::optional<Bytes> transmit(session::Time now) override;
    std::optional<session::Time> deadline() const override;
    void tick(session::Time now) override;
    std::optional<session::Done> completed() override;
    void link_lost(const Error& why) override;
    void cancel(session::RequestId id) override;
    const DropCounters& dropped() const { return parser_.dropped(); }

private:
    struct Ping {
        session::RequestId id;
        std::uint8_t dest;
        session::Policy policy;
        int sent = 0;
        bool waiting = false;
        session::Time deadline;
    };
    struct Wait {
        session::RequestId id;
        session::Time since, deadline;
    };
    Parser parser_;
    std::optional<std::array<std::uint16_t, 16>> ticks_;
    session::Millis period_ = kDefaultPeriod;
    std::optional<session::Time> next_rc_;
    std::optional<Ping> ping_;
    std::vector<Wait> waits_;
    std::optional<std::pair<Bytes, session::Time>> link_;
    std::deque<session::Done> done_;
    session::RequestId next_id_ = 1;
    std::uint64_t rc_sent_ = 0;
};

}  // namespace rig::crsf
