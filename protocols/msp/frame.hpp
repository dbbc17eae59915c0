// MSP v1 / v2 framing (reference/protocols.md §2.2–2.5), sans-IO.
#pragma once
#include <cstdint>
#include <vector>

#include "protocols/common/bytes.hpp"

namespace rig::msp {

enum class Direction : std::uint8_t { request = '<', reply = '>', error = '!' };
enum class Version : std::uint8_t { v1, v2, v2_in_v1 };

struct Frame {
    Direction dir = Direction::request;
    std::uint16_t command = 0;
    Bytes payload;
    Version version = Version::v1;
    std::uint8_t flag = 0;  // v2 only; Betaflight ignores it, send 0

    bool operator==(const Frame&) const = default;
};

struct DropCounters {
    std::uint64_t garbage_bytes = 0;  // bytes outside any frame
    std::uint64_t bad_checksum = 0;
    std::uint64_t oversize = 0;       // declared payload over the parser's limit
    std::uint64_t malformed = 0;      // e.g. a v2-in-v1 inner block shorter than 6 bytes
};

// Encodes a frame. v1 payloads of 255 bytes or more are sent as jumbo frames (§2.3);
// v2 commands above 255 need Version::v2 or v2_in_v1 (a v1 frame silently cannot carry them,
// so encode throws std::invalid_argument: that is a programmer error).
Bytes encode(const Frame& frame);

class Parser {
public:
    static constexpr std::size_t kDefaultMaxPayload = 4096;
    explicit Parser(std::size_t max_payload = kDefaultMaxPayload) : max_payload_(max_payload) {}

    // Feeds any chunk; returns the frames it completed. Never throws on bad input.
    std::vector<Frame> feed(ByteView bytes);
    const DropCounters& dropped() const noexcept { return dropped_; }
    std::uint64_t frames() const noexcept { return frames_; }

private:
    std::size_t max_payload_;
    Bytes buf_;
    DropCounters dropped_;
    std::uint64_t frames_ = 0;
};

}  // namespace rig::msp
