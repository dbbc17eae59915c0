#include "protocols/jig/jig.hpp"

#include <algorithm>
#include <cmath>

#include "protocols/common/cobs.hpp"
#include "protocols/common/crc.hpp"

namespace rig::jig {
namespace {
constexpr std::size_t kHeader = 4;  // version, kind, seq, command
constexpr std::size_t kCrc = 2;
constexpr std::size_t kMaxBody = kHeader + kMaxPayload + kCrc;
// COBS adds one byte per 254; anything longer than this between delimiters is not ours.
constexpr std::size_t kMaxEncoded = kMaxBody + kMaxBody / 254 + 2;

bool known_kind(std::uint8_t k) { return k == 0x01 || k == 0x81 || k == 0xE1 || k == 0x41; }
}  // namespace

Bytes encode(const Frame& f) {
    ByteWriter w;
    w.u8(kVersion).u8(static_cast<std::uint8_t>(f.kind)).u8(f.seq).u8(static_cast<std::uint8_t>(f.command));
    w.bytes(f.payload);
    w.u16le(crc::crc16_ccitt_false(w.view()));
    Bytes out = cobs::encode(w.view());
    out.push_back(std::byte{0});
    return out;
}

std::vector<Frame> Parser::feed(ByteView bytes) {
    std::vector<Frame> out;
    for (auto b : bytes) {
        if (b != std::byte{0}) {
            if (buf_.size() < kMaxEncoded) buf_.push_back(b);
            else overflow_ = true;
            continue;
        }
        finish_frame(out);
    }
    return out;
}

void Parser::finish_frame(std::vector<Frame>& out) {
    Bytes encoded = std::move(buf_);
    buf_.clear();
    if (overflow_) {
        overflow_ = false;
        ++dropped_.oversize;
        return;
    }
    if (encoded.empty()) return;  // back-to-back delimiters are allowed
    auto body = cobs::decode(encoded);
    if (!body) { ++dropped_.bad_cobs; return; }
    if (body->size() < kHeader + kCrc) { ++dropped_.too_short; return; }
    if (body->size() > kMaxBody) { ++dropped_.oversize; return; }
    ByteView v(*body);
    const auto n = v.size() - kCrc;
    const std::uint16_t wire_crc = static_cast<std::uint16_t>(std::to_integer<unsigned>(v[n]) | (std::to_integer<unsigned>(v[n + 1]) << 8));
    if (crc::crc16_ccitt_false(v.first(n)) != wire_crc) { ++dropped_.bad_crc; return; }
    if (std::to_integer<std::uint8_t>(v[0]) != kVersion) { ++dropped_.bad_version; return; }
    if (!known_kind(std::to_integer<std::uint8_t>(v[1]))) { ++dropped_.bad_kind; return; }
    Frame f;
    f.kind = static_cast<Kind>(v[1]);
    f.seq = std::to_integer<std::uint8_t>(v[2]);
    f.command = static_cast<Command>(v[3]);
    f.payload.assign(v.begin() + kHeader, v.begin() + static_cast<std::ptrdiff_t>(n));
    out.push_back(std::move(f));
}

Bytes encode_supply(const Supply& s) {
    const double mv = std::clamp(std::round(s.voltage_v * 1000), 0.0, 65535.0);
    const double ma = std::clamp(std::round(s.current_a * 1000), -2147483648.0, 2147483647.0);
    return ByteWriter().u16le(static_cast<std::uint16_t>(mv)).i32le(static_cast<std::int32_t>(ma)).take();
}
Result<Supply> decode_supply(ByteView p) {
    ByteReader r(p);
    auto mv = r.u16le();
    auto ma = r.i32le();
    if (!ma) return make_error(Errc::protocol_error, "jig: READ_DUT_SUPPLY reply truncated");
    return Supply{*mv / 1000.0, *ma / 1000.0};
}

Bytes encode_identity(const Identity& id) { return ByteWriter().pstring(id.fixture_id).pstring(id.firmware).take(); }
Result<Identity> decode_identity(ByteView p) {
    ByteReader r(p);
    auto a = r.pstring();
    auto b = r.pstring();
    if (!b) return make_error(Errc::protocol_error, "jig: IDENTIFY reply truncated");
    return Identity{*a, *b};
}

Bytes encode_error(const ErrorReply& e) {
    return ByteWriter().u8(static_cast<std::uint8_t>(e.code)).pstring(e.message).take();
}
Result<ErrorReply> decode_error(ByteView p) {
    ByteReader r(p);
    auto code = r.u8();
    if (!code) return make_error(Errc::protocol_error, "jig: error reply without a code");
    auto msg = r.pstring();
    return ErrorReply{static_cast<ErrorCode>(*code), msg ? *msg : std::string{}};
}

const char* command_name(Command c) {
    switch (c) {
    case Command::heartbeat: return "HEARTBEAT";
    case Command::identify: return "IDENTIFY";
    case Command::set_dut_power: return "SET_DUT_POWER";
    case Command::read_dut_supply: return "READ_DUT_SUPPLY";
    case Command::read_lid: return "READ_LID";
    case Command::read_barcode: return "READ_BARCODE";
    case Command::set_stack_light: return "SET_STACK_LIGHT";
    case Command::buzzer: return "BUZZER";
    }
    return "UNKNOWN";
}

}  // namespace rig::jig
