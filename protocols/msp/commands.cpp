#include "protocols/msp/commands.hpp"

#include <fmt/format.h>

namespace rig::msp {

Result<Name> Name::decode(ByteView p) {
    std::string s(reinterpret_cast<const char*>(p.data()), std::min<std::size_t>(p.size(), kMaxNameLength));
    return Name{s};
}

Bytes BuildInfo::encode() const {
    ByteWriter w;
    w.fixed(date, 11).fixed(time, 8).fixed(revision, 7);
    for (auto o : options) w.u16le(o);
    return w.take();
}

Result<BuildInfo> BuildInfo::decode(ByteView p) {
    ByteReader r(p);
    auto d = r.chars(11), t = r.chars(8), g = r.chars(7);
    if (!d || !t || !g) return make_error(Errc::protocol_error, fmt::format("msp: BUILD_INFO payload truncated ({} bytes)", p.size()));
    BuildInfo b{*d, *t, *g, {}};
    while (auto o = r.u16le()) b.options.push_back(*o);
    return b;
}

Frame set_name(std::string_view name) { return make_request(cmd::set_name, ByteWriter().chars(name.substr(0, kMaxNameLength)).take()); }
Frame acc_calibration() { return make_request(cmd::acc_calibration); }
Frame eeprom_write() { return make_request(cmd::eeprom_write); }
Frame reboot(RebootMode mode) { return make_request(cmd::reboot, ByteWriter().u8(static_cast<std::uint8_t>(mode)).take()); }
Frame set_arming_disabled(bool disabled, bool runaway) {
    return make_request(cmd::set_arming_disabled, ByteWriter().u8(disabled ? 1 : 0).u8(runaway ? 1 : 0).take());
}

Result<RebootMode> decode_reboot_reply(const Frame& reply) {
    if (auto ok = check_ack(Frame{reply.dir, reply.command, {}, reply.version, 0}, cmd::reboot); !ok) return ok.error();
    if (reply.payload.empty()) return make_error(Errc::protocol_error, "msp: REBOOT reply does not echo the mode");
    return static_cast<RebootMode>(std::to_integer<std::uint8_t>(reply.payload[0]));
}

Result<void> check_ack(const Frame& reply, std::uint16_t command) {
    if (reply.command != command)
        return make_error(Errc::protocol_error, fmt::format("msp: expected a reply to command {}, got {}", command, reply.command));
    if (reply.dir == Direction::error) return make_error(Errc::protocol_error, fmt::format("msp: command {} refused ('!' reply)", command));
    if (reply.dir != Direction::reply) return make_error(Errc::protocol_error, fmt::format("msp: command {} got a request, not a reply", command));
    return {};
}

}  // namespace rig::msp
