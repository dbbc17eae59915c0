#include "protocols/msp/frame.hpp"

#include <stdexcept>

#include "protocols/common/crc.hpp"

namespace rig::msp {
namespace {

constexpr std::byte kPreamble{'$'};
constexpr std::uint8_t kV2Marker = 0xFF;
constexpr std::uint8_t kJumbo = 0xFF;

Bytes v2_inner(const Frame& f) {
    ByteWriter w;
    w.u8(f.flag).u16le(f.command).u16le(static_cast<std::uint16_t>(f.payload.size())).bytes(f.payload);
    w.u8(crc::crc8_dvb_s2(w.view()));
    return w.take();
}

Bytes encode_v1(Direction dir, std::uint8_t cmd, ByteView payload) {
    ByteWriter w;
    w.u8('$').u8('M').u8(static_cast<std::uint8_t>(dir));
    const std::size_t start = w.view().size();
    if (payload.size() >= kJumbo) {
        w.u8(kJumbo).u8(cmd).u16le(static_cast<std::uint16_t>(payload.size()));
    } else {
        w.u8(static_cast<std::uint8_t>(payload.size())).u8(cmd);
    }
    w.bytes(payload);
    auto body = ByteView(w.view()).subspan(start);
    w.u8(crc::xor8(body));
    return w.take();
}

bool valid_direction(std::byte b) {
    return b == std::byte{'<'} || b == std::byte{'>'} || b == std::byte{'!'};
}

enum class Outcome { need_more, frame, bad_checksum, oversize, malformed, not_a_frame };

struct Attempt {
    Attempt(Outcome o, std::size_t len = 0, Frame f = {}) : outcome(o), length(len), frame(std::move(f)) {}
    Outcome outcome;
    std::size_t length;
    Frame frame;
};

std::uint8_t at(ByteView v, std::size_t i) { return std::to_integer<std::uint8_t>(v[i]); }

Attempt try_v2_body(ByteView v, std::size_t off, Direction dir, std::size_t max_payload) {
    // off points at the flag byte.
    if (v.size() < off + 5) return {Outcome::need_more};
    const std::uint16_t cmd = static_cast<std::uint16_t>(at(v, off + 1) | (at(v, off + 2) << 8));
    const std::size_t size = at(v, off + 3) | (at(v, off + 4) << 8);
    if (size > max_payload) return {Outcome::oversize};
    const std::size_t end = off + 5 + size + 1;
    if (v.size() < end) return {Outcome::need_more};
    if (crc::crc8_dvb_s2(v.subspan(off, 5 + size)) != at(v, end - 1)) return {Outcome::bad_checksum};
    Frame f;
    f.dir = dir;
    f.command = cmd;
    f.flag = at(v, off);
    f.version = Version::v2;
    f.payload.assign(v.begin() + off + 5, v.begin() + off + 5 + size);
    return {Outcome::frame, end, std::move(f)};
}

Attempt try_frame(ByteView v, std::size_t max_payload) {
    if (v.size() < 2) return {Outcome::need_more};
    const auto version = v[1];
    if (version != std::byte{'M'} && version != std::byte{'X'}) return {Outcome::not_a_frame};
    if (v.size() < 3) return {Outcome::need_more};
    if (!valid_direction(v[2])) return {Outcome::not_a_frame};
    const auto dir = static_cast<Direction>(at(v, 2));

    if (version == std::byte{'X'}) return try_v2_body(v, 3, dir, max_payload);

    if (v.size() < 5) return {Outcome::need_more};
    std::size_t size = at(v, 3);
    const std::uint8_t cmd = at(v, 4);
    std::size_t header = 5;
    if (size == kJumbo) {
        if (v.size() < 7) return {Outcome::need_more};
        size = at(v, 5) | (at(v, 6) << 8);
        header = 7;
    }
    if (size > max_payload) return {Outcome::oversize};
    const std::size_t end = header + size + 1;
    if (v.size() < end) return {Outcome::need_more};
    if (crc::xor8(v.subspan(3, end - 4)) != at(v, end - 1)) return {Outcome::bad_checksum};

    if (cmd == kV2Marker) {
        // §2.5: the inner block is flag, cmd, size, payload, crc8; shorter than 6 is dropped.
        auto inner = v.subspan(header, size);
        if (inner.size() < 6) return {Outcome::malformed};
        auto a = try_v2_body(inner, 0, dir, max_payload);
        if (a.outcome == Outcome::need_more || (a.outcome == Outcome::frame && a.length != inner.size()))
            return {Outcome::malformed};
        if (a.outcome != Outcome::frame) return {a.outcome};
        a.frame.version = Version::v2_in_v1;
        a.length = end;
        return a;
    }
    Frame f;
    f.dir = dir;
    f.command = cmd;
    f.version = Version::v1;
    f.payload.assign(v.begin() + header, v.begin() + header + size);
    return {Outcome::frame, end, std::move(f)};
}

}  // namespace

Bytes encode(const Frame& f) {
    switch (f.version) {
    case Version::v1:
        if (f.command > 0xFF || f.command == kV2Marker)
            throw std::invalid_argument("msp: command does not fit a v1 frame");
        return encode_v1(f.dir, static_cast<std::uint8_t>(f.command), f.payload);
    case Version::v2: {
        ByteWriter w;
        w.u8('$').u8('X').u8(static_cast<std::uint8_t>(f.dir)).bytes(v2_inner(f));
        return w.take();
    }
    case Version::v2_in_v1:
        return encode_v1(f.dir, kV2Marker, v2_inner(f));
    }
    throw std::invalid_argument("msp: bad version");
}

std::vector<Frame> Parser::feed(ByteView bytes) {
    std::vector<Frame> out;
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    std::size_t pos = 0;
    while (pos < buf_.size()) {
        if (buf_[pos] != kPreamble) {
            ++dropped_.garbage_bytes;
            ++pos;
            continue;
        }
        auto a = try_frame(ByteView(buf_).subspan(pos), max_payload_);
        switch (a.outcome) {
        case Outcome::need_more:
            goto done;
        case Outcome::frame:
            out.push_back(std::move(a.frame));
            ++frames_;
            pos += a.length;
            continue;
        case Outcome::bad_checksum: ++dropped_.bad_checksum; break;
        case Outcome::oversize: ++dropped_.oversize; break;
        case Outcome::malformed: ++dropped_.malformed; break;
        case Outcome::not_a_frame: ++dropped_.garbage_bytes; break;
        }
        // Rescan from the byte after this '$': a real frame may start inside the bad one.
        ++pos;
    }
done:
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos));
    return out;
}

}  // namespace rig::msp
