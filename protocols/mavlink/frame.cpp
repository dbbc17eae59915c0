#include "protocols/mavlink/frame.hpp"

#include <stdexcept>

#include "protocols/common/crc.hpp"
#include "protocols/common/sha256.hpp"

namespace rig::mavlink {
namespace {

std::uint8_t at(ByteView v, std::size_t i) { return std::to_integer<std::uint8_t>(v[i]); }

std::uint16_t frame_crc(ByteView after_stx_header, ByteView payload, std::uint8_t extra) {
    std::uint16_t crc = crc::crc16_mcrf4xx(after_stx_header);
    crc = crc::crc16_mcrf4xx(payload, crc);
    const std::byte e{extra};
    return crc::crc16_mcrf4xx(ByteView(&e, 1), crc);
}

enum class Outcome { need_more, frame, bad_crc, unknown_id, bad_incompat, not_a_frame };
struct Attempt {
    Attempt(Outcome o, std::size_t len = 0) : outcome(o), length(len) {}
    Outcome outcome;
    std::size_t length;
    Frame frame;
};

Attempt try_frame(ByteView v) {
    const bool v2 = at(v, 0) == kStxV2;
    const std::size_t header = v2 ? 10 : 6;
    if (v.size() < 2) return {Outcome::need_more};
    const std::size_t len = at(v, 1);
    if (v.size() < header) return {Outcome::need_more};
    std::uint8_t incompat = 0;
    if (v2) {
        incompat = at(v, 2);
        if (incompat & ~kIncompatSigned) return {Outcome::bad_incompat, header + len + 2};
    }
    const bool signed_frame = incompat & kIncompatSigned;
    const std::size_t total = header + len + 2 + (signed_frame ? kSignatureLen : 0);
    const std::uint32_t msgid = v2 ? (at(v, 7) | (at(v, 8) << 8) | (at(v, 9) << 16)) : at(v, 5);
    const MessageInfo* info = find_message(msgid);
    if (!info) {
        if (v.size() < total) return {Outcome::need_more};
        return {Outcome::unknown_id, total};
    }
    // A v1 frame carries exactly the base length. A v2 frame may be truncated, and may also be
    // longer than we know: a newer dialect added extension fields. Its CRC covers what was sent.
    if (!v2 && len != info->base_len) return {Outcome::not_a_frame};
    if (v.size() < total) return {Outcome::need_more};
    const std::uint16_t wire = static_cast<std::uint16_t>(at(v, header + len) | (at(v, header + len + 1) << 8));
    if (frame_crc(v.subspan(1, header - 1), v.subspan(header, len), info->crc_extra) != wire) return {Outcome::bad_crc};
    Attempt a{Outcome::frame, total};
    Frame& f = a.frame;
    f.v2 = v2;
    f.incompat = incompat;
    f.compat = v2 ? at(v, 3) : 0;
    f.seq = at(v, v2 ? 4 : 2);
    f.sysid = at(v, v2 ? 5 : 3);
    f.compid = at(v, v2 ? 6 : 4);
    f.msgid = msgid;
    f.payload.assign(v.begin() + static_cast<std::ptrdiff_t>(header), v.begin() + static_cast<std::ptrdiff_t>(header + len));
    if (f.payload.size() < info->full_len) f.payload.resize(info->full_len, std::byte{0});  // zero-extension (§3.4)
    if (signed_frame) {
        Signature s;
        const std::size_t o = header + len + 2;
        s.link_id = at(v, o);
        for (int i = 0; i < 6; ++i) s.timestamp |= std::uint64_t{at(v, o + 1 + i)} << (8 * i);
        for (int i = 0; i < 6; ++i) s.value[i] = at(v, o + 7 + i);
        f.signature = s;
    }
    f.raw.assign(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(total));
    return a;
}

}  // namespace

Bytes encode_v2(const Header& h, std::uint32_t msgid, ByteView payload, const SigningKey* key, std::uint64_t timestamp) {
    const MessageInfo* info = find_message(msgid);
    if (!info) throw std::invalid_argument("mavlink: message id not in the table");
    std::size_t len = std::min<std::size_t>(payload.size(), info->full_len);
    while (len > 1 && payload[len - 1] == std::byte{0}) --len;  // truncation keeps at least one byte
    ByteWriter w;
    w.u8(kStxV2).u8(static_cast<std::uint8_t>(len)).u8(key ? kIncompatSigned : 0).u8(0);
    w.u8(h.seq).u8(h.sysid).u8(h.compid).u8(msgid & 0xFF).u8((msgid >> 8) & 0xFF).u8((msgid >> 16) & 0xFF);
    Bytes body(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(len));
    if (body.empty()) body.push_back(std::byte{0});
    w.bytes(body);
    const auto crc = frame_crc(ByteView(w.view()).subspan(1, 9), body, info->crc_extra);
    w.u16le(crc);
    if (key) {
        w.u8(key->link_id);
        for (int i = 0; i < 6; ++i) w.u8(static_cast<std::uint8_t>(timestamp >> (8 * i)));
        const auto sig = compute_signature(*key, w.view());
        for (auto b : sig) w.u8(b);
    }
    return w.take();
}

Bytes encode_v1(const Header& h, std::uint32_t msgid, ByteView payload) {
    const MessageInfo* info = find_message(msgid);
    if (!info || msgid > 255) throw std::invalid_argument("mavlink: message cannot be sent as MAVLink 1");
    Bytes body(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(payload.size(), info->base_len)));
    body.resize(info->base_len, std::byte{0});
    ByteWriter w;
    w.u8(kStxV1).u8(info->base_len).u8(h.seq).u8(h.sysid).u8(h.compid).u8(static_cast<std::uint8_t>(msgid));
    w.bytes(body);
    w.u16le(frame_crc(ByteView(w.view()).subspan(1, 5), body, info->crc_extra));
    return w.take();
}

std::array<std::uint8_t, 6> compute_signature(const SigningKey& key, ByteView signed_part) {
    Sha256 h;
    h.update(ByteView(reinterpret_cast<const std::byte*>(key.secret.data()), key.secret.size()));
    h.update(signed_part);
    const auto digest = h.finish();
    std::array<std::uint8_t, 6> out{};
    for (int i = 0; i < 6; ++i) out[i] = digest[i];
    return out;
}

bool verify_signature(const Frame& f, const std::array<std::uint8_t, 32>& secret) {
    if (!f.signature || f.raw.size() < kSignatureLen + 12) return false;
    SigningKey key{secret, f.signature->link_id};
    const auto expect = compute_signature(key, ByteView(f.raw).first(f.raw.size() - 6));
    return expect == f.signature->value;
}

std::vector<Frame> Parser::feed(ByteView bytes) {
    std::vector<Frame> out;
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    std::size_t pos = 0;
    while (pos < buf_.size()) {
        const auto b = std::to_integer<std::uint8_t>(buf_[pos]);
        if (b != kStxV2 && b != kStxV1) {
            ++dropped_.garbage_bytes;
            ++pos;
            continue;
        }
        auto a = try_frame(ByteView(buf_).subspan(pos));
        if (a.outcome == Outcome::need_more) break;
        switch (a.outcome) {
        case Outcome::frame:
            out.push_back(std::move(a.frame));
            pos += a.length;
            continue;
        case Outcome::unknown_id:
            ++dropped_.unknown_id;
            pos += a.length;  // §3.6: skip LEN + 2 (+13) bytes
            continue;
        case Outcome::bad_incompat:
            ++dropped_.bad_incompat;
            pos += 1;
            continue;
        case Outcome::bad_crc: ++dropped_.bad_crc; break;
        default: ++dropped_.garbage_bytes; break;
        }
        ++pos;
    }
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos));
    return out;
}

}  // namespace rig::mavlink
