#include "protocols/dronecan/transport.hpp"

#include <stdexcept>

#include "protocols/common/crc.hpp"

namespace rig::dronecan {

std::uint32_t encode_id(const CanId& id) {
    const std::uint32_t prio = static_cast<std::uint32_t>(id.priority & 0x1F) << 24;
    switch (id.kind) {
    case Kind::message:
        if (id.source == 0)
            return prio | (static_cast<std::uint32_t>(id.discriminator & 0x3FFF) << 10) | (static_cast<std::uint32_t>(id.data_type_id & 0x3) << 8);
        return prio | (static_cast<std::uint32_t>(id.data_type_id) << 8) | (id.source & 0x7F);
    case Kind::request:
    case Kind::response:
        return prio | (static_cast<std::uint32_t>(id.data_type_id & 0xFF) << 16) | (id.kind == Kind::request ? 1u << 15 : 0u) |
               (static_cast<std::uint32_t>(id.destination & 0x7F) << 8) | (1u << 7) | (id.source & 0x7F);
    }
    return 0;
}

CanId decode_id(std::uint32_t raw) {
    CanId id;
    id.priority = static_cast<std::uint8_t>((raw >> 24) & 0x1F);
    id.source = raw & 0x7F;
    if (raw & (1u << 7)) {
        id.kind = (raw & (1u << 15)) ? Kind::request : Kind::response;
        id.data_type_id = static_cast<std::uint16_t>((raw >> 16) & 0xFF);
        id.destination = static_cast<std::uint8_t>((raw >> 8) & 0x7F);
        return id;
    }
    id.kind = Kind::message;
    if (id.source == 0) {
        id.discriminator = static_cast<std::uint16_t>((raw >> 10) & 0x3FFF);
        id.data_type_id = static_cast<std::uint16_t>((raw >> 8) & 0x3);
    } else {
        id.data_type_id = static_cast<std::uint16_t>((raw >> 8) & 0xFFFF);
    }
    return id;
}

std::uint8_t encode_tail(const Tail& t) {
    return static_cast<std::uint8_t>((t.start ? 0x80 : 0) | (t.end ? 0x40 : 0) | (t.toggle ? 0x20 : 0) | (t.transfer_id & 0x1F));
}
Tail decode_tail(std::uint8_t b) { return Tail{(b & 0x80) != 0, (b & 0x40) != 0, (b & 0x20) != 0, static_cast<std::uint8_t>(b & 0x1F)}; }

std::uint16_t transfer_crc(std::uint64_t signature, ByteView payload) {
    std::byte sig[8];
    for (int i = 0; i < 8; ++i) sig[i] = static_cast<std::byte>((signature >> (8 * i)) & 0xFF);
    return crc::crc16_ccitt_false(payload, crc::crc16_ccitt_false(ByteView(sig, 8)));
}

std::vector<CanFrame> encode_transfer(const Transfer& t, std::uint64_t signature) {
    CanId id = t.id;
    const bool anonymous = id.kind == Kind::message && id.source == 0;
    if (anonymous) {
        if (t.payload.size() > 7) throw std::invalid_argument("dronecan: anonymous transfers carry at most 7 bytes");
        // libcanard's discriminator: derived from the payload's CRC.
        id.discriminator = static_cast<std::uint16_t>((crc::crc16_ccitt_false(t.payload) & 0x7FFE) >> 1);
    }
    const std::uint32_t raw = encode_id(id);
    std::vector<CanFrame> frames;
    if (t.payload.size() <= 7) {
        CanFrame f{raw, true, false, t.payload, 0};
        f.data.push_back(static_cast<std::byte>(encode_tail({true, true, false, t.transfer_id})));
        frames.push_back(std::move(f));
        return frames;
    }
    const auto crc = transfer_crc(signature, t.payload);
    Bytes body;
    body.reserve(t.payload.size() + 2);
    body.push_back(static_cast<std::byte>(crc & 0xFF));
    body.push_back(static_cast<std::byte>(crc >> 8));
    body.insert(body.end(), t.payload.begin(), t.payload.end());
    bool toggle = false;
    for (std::size_t off = 0; off < body.size(); off += 7) {
        const std::size_t n = std::min<std::size_t>(7, body.size() - off);
        CanFrame f{raw, true, false, Bytes(body.begin() + static_cast<std::ptrdiff_t>(off), body.begin() + static_cast<std::ptrdiff_t>(off + n)), 0};
        f.data.push_back(static_cast<std::byte>(encode_tail({off == 0, off + n == body.size(), toggle, t.transfer_id})));
        frames.push_back(std::move(f));
        toggle = !toggle;
    }
    return frames;
}

std::optional<Transfer> Reassembler::feed(const CanFrame& frame, std::uint64_t now_us) {
    if (!frame.extended || frame.rtr) {
        ++dropped_.not_extended;
        return std::nullopt;
    }
    if (frame.data.empty()) {
        ++dropped_.empty_frame;
        return std::nullopt;
    }
    // Abandon stale reassemblies first: their senders gave up or lost frames.
    for (auto it = states_.begin(); it != states_.end();) {
        if (now_us - it->second.started_us > timeout_us_) {
            ++dropped_.timed_out;
            it = states_.erase(it);
        } else {
            ++it;
        }
    }
    const CanId id = decode_id(frame.id & kCanExtMask);
    if (id.kind != Kind::message && id.destination != local_) {
        ++dropped_.not_for_us;
        return std::nullopt;
    }
    const Tail tail = decode_tail(std::to_integer<std::uint8_t>(frame.data.back()));
    ByteView data = ByteView(frame.data).first(frame.data.size() - 1);

    if (tail.start && tail.end) {
        if (tail.toggle) {
            ++dropped_.bad_toggle;
            return std::nullopt;
        }
        if (!lookup_(id.kind, id.data_type_id)) {
            ++dropped_.unknown_type;
            return std::nullopt;
        }
        return Transfer{id, tail.transfer_id, Bytes(data.begin(), data.end()), now_us};
    }
    const Key key{id.kind, id.data_type_id, id.source, id.destination};
    if (tail.start) {
        auto sig = lookup_(id.kind, id.data_type_id);
        if (!sig) {
            ++dropped_.unknown_type;
            return std::nullopt;
        }
        if (tail.toggle) {
            ++dropped_.bad_toggle;
            return std::nullopt;
        }
        State s;
        s.started_us = now_us;
        s.transfer_id = tail.transfer_id;
        s.next_toggle = true;
        s.signature = *sig;
        s.buffer.assign(data.begin(), data.end());
        states_[key] = std::move(s);  // a new start replaces an unfinished transfer
        return std::nullopt;
    }
    auto it = states_.find(key);
    if (it == states_.end() || it->second.transfer_id != tail.transfer_id) {
        ++dropped_.missed_start;
        return std::nullopt;
    }
    State& s = it->second;
    if (tail.toggle != s.next_toggle) {
        ++dropped_.bad_toggle;
        states_.erase(it);
        return std::nullopt;
    }
    s.next_toggle = !s.next_toggle;
    s.buffer.insert(s.buffer.end(), data.begin(), data.end());
    if (!tail.end) return std::nullopt;
    std::optional<Transfer> done;
    if (s.buffer.size() >= 2) {
        const std::uint16_t wire = static_cast<std::uint16_t>(std::to_integer<unsigned>(s.buffer[0]) | (std::to_integer<unsigned>(s.buffer[1]) << 8));
        ByteView payload = ByteView(s.buffer).subspan(2);
        if (transfer_crc(s.signature, payload) == wire) done = Transfer{id, tail.transfer_id, Bytes(payload.begin(), payload.end()), s.started_us};
        else ++dropped_.bad_crc;
    } else {
        ++dropped_.bad_crc;
    }
    states_.erase(it);
    return done;
}

}  // namespace rig::dronecan
