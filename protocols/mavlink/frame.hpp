// MAVLink 2 framing (and MAVLink 1 parsing), CRC_EXTRA, truncation, incompat flags and
// message signing (reference/protocols.md §3), sans-IO.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "protocols/common/bytes.hpp"

namespace rig::mavlink {

inline constexpr std::uint8_t kStxV2 = 0xFD;
inline constexpr std::uint8_t kStxV1 = 0xFE;
inline constexpr std::uint8_t kIncompatSigned = 0x01;
inline constexpr std::size_t kSignatureLen = 13;

struct MessageInfo {
    std::uint32_t id;
    const char* name;
    std::uint8_t crc_extra;
    std::uint8_t full_len;  // base + extensions
    std::uint8_t base_len;  // MAVLink 1 length
};

// The message table of this codec (every message of messages.hpp); nullptr when unknown.
const MessageInfo* find_message(std::uint32_t id);

struct Signature {
    std::uint8_t link_id = 0;
    std::uint64_t timestamp = 0;  // 48 bits: 10 us units since 2015-01-01
    std::array<std::uint8_t, 6> value{};
    bool operator==(const Signature&) const = default;
};

struct Frame {
    bool v2 = true;
    std::uint8_t incompat = 0, compat = 0;
    std::uint8_t seq = 0, sysid = 0, compid = 0;
    std::uint32_t msgid = 0;
    Bytes payload;  // zero-extended to the message's full length on receive; longer when a newer
                    // dialect sent extension fields this table does not know (decode ignores them)
    std::optional<Signature> signature;
    Bytes raw;      // the frame's bytes as received (signature checks need them)
    bool operator==(const Frame& o) const {
        return v2 == o.v2 && incompat == o.incompat && compat == o.compat && seq == o.seq && sysid == o.sysid &&
               compid == o.compid && msgid == o.msgid && payload == o.payload && signature == o.signature;
    }
};

struct SigningKey {
    std::array<std::uint8_t, 32> secret{};
    std::uint8_t link_id = 0;
};

struct Header {
    std::uint8_t seq = 0, sysid = 255, compid = 190;
};

// Encodes a v2 frame: trailing zeros of the payload are cut (one byte is always kept); with a
// key the frame is signed with the given timestamp.
Bytes encode_v2(const Header& h, std::uint32_t msgid, ByteView payload, const SigningKey* key = nullptr,
                std::uint64_t timestamp = 0);
// Encodes a v1 frame (the base fields only; ids above 255 cannot be sent: throws).
Bytes encode_v1(const Header& h, std::uint32_t msgid, ByteView payload);

// The 6-byte signature of a signed frame's bytes (everything up to and including the
// timestamp).
std::array<std::uint8_t, 6> compute_signature(const SigningKey& key, ByteView frame_without_signature_value);
bool verify_signature(const Frame& frame, const std::array<std::uint8_t, 32>& secret);

struct DropCounters {
    std::uint64_t garbage_bytes = 0;
    std::uint64_t bad_crc = 0;
    std::uint64_t unknown_id = 0;       // no CRC_EXTRA: cannot be checked, skipped whole
    std::uint64_t bad_incompat = 0;     // unknown incompat flags: dropped
    bool operator==(const DropCounters&) const = default;
};

inline constexpr std::size_t kMaxFrameLen = 10 + 255 + 2 + kSignatureLen;

// A received frame as views into the parser's input (valid during the callback only): no copy,
// no allocation. The payload is as sent (possibly truncated); decode() zero-extends it.
struct FrameView {
    bool v2 = true;
    std::uint8_t incompat = 0, compat = 0, seq = 0, sysid = 0, compid = 0;
    std::uint32_t msgid = 0;
    const MessageInfo* info = nullptr;
    ByteView payload;
    ByteView raw;  // the whole frame, signature included
};

class FrameSink {
public:
    virtual void frame(const FrameView& f) = 0;

protected:
    ~FrameSink() = default;
};

Frame to_frame(const FrameView& v);  // an owning copy, payload zero-extended

class Parser {
public:
    // The allocation-free path: each complete, CRC-checked frame goes to `sink`. Bytes are
    // buffered only while a frame straddles two feeds (at most one frame, kMaxFrameLen bytes).
    void feed(ByteView bytes, FrameSink& sink) {
        // Fast path (a byte-at-a-time reader): bytes that do not yet complete the frame in
        // progress are only appended.
        if (pending_len_ != 0 && bytes.size() < need_ - pending_len_) {
            if (bytes.size() == 1)
                pending_[pending_len_] = bytes[0];  // no call to memmove for one byte
            else
                std::copy(bytes.begin(), bytes.end(), pending_.begin() + static_cast<std::ptrdiff_t>(pending_len_));
            pending_len_ += bytes.size();
            return;
        }
        feed_slow(bytes, sink);
    }
    // Convenience: owning frames.
    std::vector<Frame> feed(ByteView bytes);
    const DropCounters& dropped() const noexcept { return dropped_; }

private:
    void feed_slow(ByteView bytes, FrameSink& sink);
    std::size_t scan(ByteView v, FrameSink& sink);  // bytes consumed; stops where a frame is incomplete
    void keep(ByteView rest);                       // an incomplete frame, from its STX
    std::array<std::byte, kMaxFrameLen> pending_{};
    std::size_t pending_len_ = 0;
    std::size_t need_ = 0;  // while pending_len_ > 0: the bytes needed before the frame is judged
    DropCounters dropped_;
};

}  // namespace rig::mavlink
