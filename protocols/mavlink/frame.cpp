#include "protocols/mavlink/frame.hpp"

#include <stdexcept>

#include "protocols/common/crc.hpp"
#include "protocols/common/sha256.hpp"

namespace rig::mavlink {
namespace {

std::uint8_t at(ByteView v, std::size_t i) { return std::to_integer<std::uint8_t>(v[i]); }

// The CRC of a frame: every byte after the STX through the payload (contiguous), then CRC_EXTRA.
std::uint16_t frame_crc(ByteView header_and_payload, std::uint8_t extra) {
    const std::byte e{extra};
    return crc::crc16_mcrf4xx(ByteView(&e, 1), crc::crc16_mcrf4xx(header_and_payload));
}

enum class Outcome { need_more, frame, bad_crc, unknown_id, bad_incompat, not_a_frame };

// Looks at the bytes from an STX; on a frame, fills `out` with views into `v`.
Outcome try_frame(ByteView v, std::size_t& length, FrameView& out) {
    const std::uint8_t* p = reinterpret_cast<const std::uint8_t*>(v.data());
    const bool v2 = p[0] == kStxV2;
    const std::size_t header = v2 ? 10 : 6;
    if (v.size() < header) return Outcome::need_more;
    const std::size_t len = p[1];
    std::uint8_t incompat = 0;
    if (v2) {
        incompat = p[2];
        if (incompat & ~kIncompatSigned) return Outcome::bad_incompat;
    }
    const std::size_t total = header + len + 2 + ((incompat & kIncompatSigned) ? kSignatureLen : 0);
    const std::uint32_t msgid = v2 ? (p[7] | (p[8] << 8) | (static_cast<std::uint32_t>(p[9]) << 16)) : p[5];
    const MessageInfo* info = find_message(msgid);
    if (!info) {
        if (v.size() < total) return Outcome::need_more;
        length = total;
        return Outcome::unknown_id;
    }
    // A v1 frame carries exactly the base length. A v2 frame may be truncated, and may also be
    // longer than we know: a newer dialect added extension fields. Its CRC covers what was sent.
    if (!v2 && len != info->base_len) return Outcome::not_a_frame;
    if (v.size() < total) return Outcome::need_more;
    const std::uint16_t wire = static_cast<std::uint16_t>(p[header + len] | (p[header + len + 1] << 8));
    if (frame_crc(v.subspan(1, header - 1 + len), info->crc_extra) != wire) return Outcome::bad_crc;
    out.v2 = v2;
    out.incompat = incompat;
    out.compat = v2 ? p[3] : 0;
    out.seq = p[v2 ? 4 : 2];
    out.sysid = p[v2 ? 5 : 3];
    out.compid = p[v2 ? 6 : 4];
    out.msgid = msgid;
    out.info = info;
    out.payload = v.subspan(header, len);
    out.raw = v.first(total);
    length = total;
    return Outcome::frame;
}

// How many bytes the frame starting at p[0] (an STX) needs before it can be judged: its header,
// then, unless the header already rules it out, the whole frame (as try_frame decides).
std::size_t extent(const std::byte* bytes, std::size_t have) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes);
    const bool v2 = p[0] == kStxV2;
    const std::size_t header = v2 ? 10 : 6;
    if (have < header) return header;
    if (v2 && (p[2] & ~kIncompatSigned)) return header;
    if (!v2) {
        const MessageInfo* info = find_message(p[5]);
        if (info && p[1] != info->base_len) return header;
    }
    return header + p[1] + 2 + ((v2 && (p[2] & kIncompatSigned)) ? kSignatureLen : 0);
}

struct Collect final : FrameSink {
    std::vector<Frame>& out;
    explicit Collect(std::vector<Frame>& o) : out(o) {}
    void frame(const FrameView& f) override { out.push_back(to_frame(f)); }
};

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
    const auto crc = frame_crc(ByteView(w.view()).subspan(1), info->crc_extra);
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
    w.u16le(frame_crc(ByteView(w.view()).subspan(1), info->crc_extra));
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

Frame to_frame(const FrameView& v) {
    Frame f;
    f.v2 = v.v2;
    f.incompat = v.incompat;
    f.compat = v.compat;
    f.seq = v.seq;
    f.sysid = v.sysid;
    f.compid = v.compid;
    f.msgid = v.msgid;
    f.payload.assign(v.payload.begin(), v.payload.end());
    if (v.info && f.payload.size() < v.info->full_len) f.payload.resize(v.info->full_len, std::byte{0});  // zero-extension (§3.4)
    if (v.incompat & kIncompatSigned) {
        Signature s;
        const std::size_t o = v.raw.size() - kSignatureLen;
        s.link_id = at(v.raw, o);
        for (int i = 0; i < 6; ++i) s.timestamp |= std::uint64_t{at(v.raw, o + 1 + i)} << (8 * i);
        for (int i = 0; i < 6; ++i) s.value[i] = at(v.raw, o + 7 + i);
        f.signature = s;
    }
    f.raw.assign(v.raw.begin(), v.raw.end());
    return f;
}

std::size_t Parser::scan(ByteView v, FrameSink& sink) {
    std::size_t pos = 0;
    FrameView view;
    while (pos < v.size()) {
        const auto* base = reinterpret_cast<const std::uint8_t*>(v.data());
        // Resynchronise: skip to the next STX.
        std::size_t next = pos;
        while (next < v.size() && base[next] != kStxV2 && base[next] != kStxV1) ++next;
        dropped_.garbage_bytes += next - pos;
        pos = next;
        if (pos >= v.size()) break;
        std::size_t length = 0;
        switch (try_frame(v.subspan(pos), length, view)) {
        case Outcome::need_more: return pos;
        case Outcome::frame:
            sink.frame(view);
            pos += length;
            continue;
        case Outcome::unknown_id:
            ++dropped_.unknown_id;
            pos += length;  // §3.6: skip LEN + 2 (+13) bytes
            continue;
        case Outcome::bad_incompat: ++dropped_.bad_incompat; break;
        case Outcome::bad_crc: ++dropped_.bad_crc; break;
        case Outcome::not_a_frame: ++dropped_.garbage_bytes; break;
        }
        ++pos;
    }
    return pos;
}

void Parser::feed_slow(ByteView in, FrameSink& sink) {
    // A frame straddled the last feed: complete it in the small buffer with exactly the bytes it
    // needs, judge it, and go on in the input itself (no byte is scanned twice on a clean link).
    while (pending_len_ > 0) {
        const std::size_t take = std::min(need_ - pending_len_, in.size());
        std::copy_n(in.begin(), take, pending_.begin() + static_cast<std::ptrdiff_t>(pending_len_));
        pending_len_ += take;
        in = in.subspan(take);
        if (pending_len_ < need_) return;
        const ByteView held(pending_.data(), pending_len_);
        const std::size_t used = scan(held, sink);  // 0 when only the header was awaited
        std::copy(held.begin() + static_cast<std::ptrdiff_t>(used), held.end(), pending_.begin());
        pending_len_ -= used;
        if (pending_len_ > 0) need_ = extent(pending_.data(), pending_len_);
    }
    keep(in.subspan(scan(in, sink)));
}

void Parser::keep(ByteView rest) {
    std::copy(rest.begin(), rest.end(), pending_.begin());  // less than one frame (kMaxFrameLen)
    pending_len_ = rest.size();
    if (pending_len_ > 0) need_ = extent(pending_.data(), pending_len_);
}

std::vector<Frame> Parser::feed(ByteView bytes) {
    std::vector<Frame> out;
    Collect sink(out);
    feed(bytes, sink);
    return out;
}

}  // namespace rig::mavlink
