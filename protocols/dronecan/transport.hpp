// DroneCAN (UAVCAN v0) transport over CAN 2.0B (reference/protocols.md §5.1–5.3): 29-bit IDs,
// tail bytes, single- and multi-frame transfers with the signature-seeded transfer CRC, and
// reassembly. Sans-IO: the caller passes timestamps in; there is no clock here.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "protocols/common/can_frame.hpp"

namespace rig::dronecan {

enum class Kind : std::uint8_t { message, request, response };

namespace priority {
inline constexpr std::uint8_t highest = 0, high = 8, medium = 16, low = 24, lowest = 31;
}

struct CanId {
    Kind kind = Kind::message;
    std::uint8_t priority = priority::medium;
    std::uint16_t data_type_id = 0;  // message: 16 bits; service: 8 bits; anonymous: low 2 bits
    std::uint8_t source = 0;         // 0: anonymous message
    std::uint8_t destination = 0;    // services only
    std::uint16_t discriminator = 0; // anonymous messages only (14 bits)
    bool operator==(const CanId&) const = default;
};

std::uint32_t encode_id(const CanId& id);
CanId decode_id(std::uint32_t id);

struct Tail {
    bool start = true, end = true, toggle = false;
    std::uint8_t transfer_id = 0;  // 0..31
};
std::uint8_t encode_tail(const Tail& t);
Tail decode_tail(std::uint8_t b);

struct Transfer {
    CanId id;
    std::uint8_t transfer_id = 0;
    Bytes payload;
    std::uint64_t timestamp_us = 0;  // of the first frame, as passed to the reassembler
    bool operator==(const Transfer& o) const { return id == o.id && transfer_id == o.transfer_id && payload == o.payload; }
};

// Cuts a transfer into frames; multi-frame transfers carry the CRC seeded with the data type
// signature (8 bytes little-endian) over the payload. Anonymous transfers must fit one frame.
std::vector<CanFrame> encode_transfer(const Transfer& t, std::uint64_t signature);
std::uint16_t transfer_crc(std::uint64_t signature, ByteView payload);

struct DropCounters {
    std::uint64_t not_extended = 0;   // 11-bit or RTR frames: not DroneCAN
    std::uint64_t unknown_type = 0;   // no signature known for the data type: cannot check
    std::uint64_t not_for_us = 0;     // a service frame addressed to another node
    std::uint64_t missed_start = 0;   // a middle or last frame without a transfer in progress
    std::uint64_t bad_toggle = 0;
    std::uint64_t bad_crc = 0;
    std::uint64_t timed_out = 0;      // a transfer abandoned after the timeout
    std::uint64_t empty_frame = 0;    // no tail byte
};

class Reassembler {
public:
    // signature_of(kind, data_type_id) gives the signature of the types this node accepts.
    using SignatureLookup = std::function<std::optional<std::uint64_t>(Kind, std::uint16_t)>;
    static constexpr std::uint64_t kTimeoutUs = 2'000'000;  // libcanard's transfer timeout

    Reassembler(std::uint8_t local_node_id, SignatureLookup lookup, std::uint64_t timeout_us = kTimeoutUs)
        : local_(local_node_id), lookup_(std::move(lookup)), timeout_us_(timeout_us) {}

    // Feeds one frame with its receive time; returns a transfer when one completes.
    std::optional<Transfer> feed(const CanFrame& frame, std::uint64_t now_us);
    const DropCounters& dropped() const noexcept { return dropped_; }
    std::size_t in_progress() const noexcept { return states_.size(); }

private:
    struct State {
        std::uint64_t started_us = 0;
        std::uint8_t transfer_id = 0;
        bool next_toggle = false;
        Bytes buffer;  // CRC (2 bytes) + payload, as received
        std::uint64_t signature = 0;
    };
    // One reassembly per (kind, type, source, destination), as the spec's transfer descriptor.
    using Key = std::tuple<Kind, std::uint16_t, std::uint8_t, std::uint8_t>;
    std::uint8_t local_;
    SignatureLookup lookup_;
    std::uint64_t timeout_us_;
    std::map<Key, State> states_;
    DropCounters dropped_;
};

}  // namespace rig::dronecan
