// rig's own DroneCAN node (sans-IO, frame level), after libcanard and the DroneCAN node
// guidelines: NodeStatus broadcast every second, a monitor of every other node (online, offline
// after 3 s of silence, health, mode, uptime), GetNodeInfo requests with timeouts and retries,
// transfer IDs kept per (kind, data type, destination), esc.RawCommand streamed while motors
// spin, and the newest esc.Status of each ESC index. Frames in, frames out, time as values;
// rig/io carries the frames (SLCAN or SocketCAN).
#pragma once
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "protocols/common/can_frame.hpp"
#include "protocols/common/can_session.hpp"
#include "protocols/common/session.hpp"
#include "protocols/dronecan/messages.hpp"

namespace rig::dronecan {

struct RemoteNode {
    NodeStatus status;
    session::Time first_seen{}, last_seen{};
    bool online = false;
};

struct EscReading {
    EscStatus status;
    std::uint8_t node = 0;  // the node that sent it
    session::Time at{};
};

class Node final : public CanSession {
public:
    static constexpr session::Millis kStatusPeriod{1000};
    static constexpr session::Millis kOfflineAfter{3000};
    static constexpr session::Millis kMaxCommandPeriod{20};  // esc.RawCommand at >= 50 Hz

    // node_id: 1..125 (126 and 127 are reserved for tools); throws std::invalid_argument.
    explicit Node(std::uint8_t node_id);

    void receive(const CanFrame& frame, session::Time now) override;
    std::optional<CanFrame> transmit(session::Time now) override;
    std::optional<session::Time> deadline() const override;
    void tick(session::Time now) override;
    std::optional<session::Done> completed() override;
    void link_lost(const Error& why) override;
    void cancel(session::RequestId id) override;
    std::optional<std::string> note() override;

    // Done: the GetNodeInfo response payload of `node` (decode with GetNodeInfo::Response).
    session::RequestId get_node_info(std::uint8_t node, session::Policy policy, session::Time now);
    // Streams esc.RawCommand every `period` (<= kMaxCommandPeriod) until stop_esc(); stop_esc()
    // sends one all-zero command at once and ends the stream (the ESCs also stop by themselves
    // when commands stop: a second layer, not the first).
    void stream_esc(std::vector<std::int16_t> command, session::Millis period, session::Time now);
    void stop_esc(session::Time now);
    bool esc_streaming() const { return esc_command_.has_value(); }

    std::uint8_t node_id() const { return id_; }
    const std::map<std::uint8_t, RemoteNode>& nodes() const { return nodes_; }
    std::optional<EscReading> esc(std::uint8_t index) const;
    // Another node sent with our node id: a configuration fault; every request fails.
    const std::optional<std::string>& clash() const { return clash_; }
    const DropCounters& dropped() const { return rx_.dropped(); }

private:
    struct Pending {
        session::RequestId id;
        std::uint8_t node;
        std::uint8_t transfer_id;
        session::Policy policy;
        int sent = 0;
        bool waiting = false;
        session::Time deadline{};
    };
    void send(Kind kind, std::uint16_t type, std::uint8_t destination, Bytes payload, std::uint64_t signature, std::uint8_t prio,
              std::optional<std::uint8_t> transfer_id = std::nullopt);
    std::uint8_t next_transfer_id(Kind kind, std::uint16_t type, std::uint8_t destination);
    void on_transfer(const Transfer& t, session::Time now);
    void finish(session::RequestId id, Result<Bytes> r);

    std::uint8_t id_;
    Reassembler rx_;
    std::optional<session::Time> started_, next_status_;
    std::map<std::tuple<Kind, std::uint16_t, std::uint8_t>, std::uint8_t> transfer_ids_;
    std::map<std::uint8_t, RemoteNode> nodes_;
    std::map<std::uint8_t, EscReading> escs_;
    std::deque<Pending> pending_;
    std::deque<CanFrame> out_;
    std::deque<session::Done> done_;
    std::deque<std::string> notes_;
    std::optional<std::vector<std::int16_t>> esc_command_;
    session::Millis esc_period_{10};
    std::optional<session::Time> esc_due_;
    std::optional<std::string> clash_;
    session::RequestId next_id_ = 1;
};

}  // namespace rig::dronecan
