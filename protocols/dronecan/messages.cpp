#include "protocols/dronecan/messages.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "protocols/common/bits.hpp"
#include "protocols/common/float16.hpp"

namespace rig::dronecan {
namespace {
Error truncated(const char* what, std::size_t n) {
    return make_error(Errc::protocol_error, fmt::format("dronecan: {} payload truncated ({} bytes)", what, n));
}
}  // namespace

Bytes NodeStatus::encode() const {
    BitWriter w;
    w.put(uptime_s, 32).put(static_cast<unsigned>(health), 2).put(static_cast<unsigned>(mode), 3).put(sub_mode, 3).put(vendor_status, 16);
    return w.take();
}
Result<NodeStatus> NodeStatus::decode(ByteView p) {
    BitReader r(p);
    auto up = r.get(32), h = r.get(2), m = r.get(3), sm = r.get(3), vs = r.get(16);
    if (!up || !h || !m || !sm || !vs) return truncated("NodeStatus", p.size());
    return NodeStatus{static_cast<std::uint32_t>(*up), static_cast<Health>(*h), static_cast<Mode>(*m), static_cast<std::uint8_t>(*sm),
                      static_cast<std::uint16_t>(*vs)};
}

Bytes GetNodeInfo::Response::encode() const {
    ByteWriter w;
    w.bytes(status.encode());
    w.u8(sw_major).u8(sw_minor).u8(sw_flags).u32le(vcs_commit).u64le(image_crc);
    w.u8(hw_major).u8(hw_minor);
    for (auto b : unique_id) w.u8(b);
    const std::size_t cert = std::min<std::size_t>(certificate.size(), 255);
    w.u8(static_cast<std::uint8_t>(cert)).bytes(ByteView(certificate).first(cert));
    w.chars(std::string_view(name).substr(0, 80));
    return w.take();
}
Result<GetNodeInfo::Response> GetNodeInfo::Response::decode(ByteView p) {
    if (p.size() < 7) return truncated("GetNodeInfo response", p.size());
    auto st = NodeStatus::decode(p.first(7));
    if (!st) return st.error();
    ByteReader r(p.subspan(7));
    Response out;
    out.status = *st;
    auto a = r.u8(), b = r.u8(), f = r.u8();
    auto commit = r.u32le();
    auto crc = r.u64le();
    auto ha = r.u8(), hb = r.u8();
    auto uid = r.take(16);
    auto cert_len = r.u8();
    if (!a || !b || !f || !commit || !crc || !ha || !hb || !uid || !cert_len) return truncated("GetNodeInfo response", p.size());
    auto cert = r.take(*cert_len);
    if (!cert) return truncated("GetNodeInfo certificate", p.size());
    out.sw_major = *a;
    out.sw_minor = *b;
    out.sw_flags = *f;
    out.vcs_commit = *commit;
    out.image_crc = *crc;
    out.hw_major = *ha;
    out.hw_minor = *hb;
    for (std::size_t i = 0; i < 16; ++i) out.unique_id[i] = std::to_integer<std::uint8_t>((*uid)[i]);
    out.certificate.assign(cert->begin(), cert->end());
    auto rest = r.rest();
    out.name.assign(reinterpret_cast<const char*>(rest.data()), std::min<std::size_t>(rest.size(), 80));
    return out;
}

Bytes EscRawCommand::encode() const {
    BitWriter w;
    const std::size_t n = std::min<std::size_t>(cmd.size(), 20);
    for (std::size_t i = 0; i < n; ++i) w.put_signed(std::clamp<std::int16_t>(cmd[i], kMin, kMax), 14);
    return w.take();
}
Result<EscRawCommand> EscRawCommand::decode(ByteView p) {
    // TAO: the count is what fits; padding is always under 14 bits.
    const std::size_t n = std::min<std::size_t>(p.size() * 8 / 14, 20);
    BitReader r(p);
    EscRawCommand c;
    for (std::size_t i = 0; i < n; ++i) c.cmd.push_back(static_cast<std::int16_t>(*r.get_signed(14)));
    return c;
}

Bytes EscStatus::encode() const {
    BitWriter w;
    w.put(error_count, 32).put(f16::from_float(voltage_v), 16).put(f16::from_float(current_a), 16).put(f16::from_float(temperature_k), 16);
    w.put_signed(std::clamp(rpm, -131072, 131071), 18).put(power_rating_pct & 0x7F, 7).put(esc_index & 0x1F, 5);
    return w.take();
}
Result<EscStatus> EscStatus::decode(ByteView p) {
    BitReader r(p);
    auto ec = r.get(32), v = r.get(16), c = r.get(16), t = r.get(16);
    auto rpm = r.get_signed(18);
    auto pw = r.get(7), idx = r.get(5);
    if (!ec || !v || !c || !t || !rpm || !pw || !idx) return truncated("esc.Status", p.size());
    EscStatus s;
    s.error_count = static_cast<std::uint32_t>(*ec);
    s.voltage_v = f16::to_float(static_cast<std::uint16_t>(*v));
    s.current_a = f16::to_float(static_cast<std::uint16_t>(*c));
    s.temperature_k = f16::to_float(static_cast<std::uint16_t>(*t));
    s.rpm = static_cast<std::int32_t>(*rpm);
    s.power_rating_pct = static_cast<std::uint8_t>(*pw);
    s.esc_index = static_cast<std::uint8_t>(*idx);
    return s;
}

Bytes BatteryInfo::encode() const {
    BitWriter w;
    for (float f : {temperature_k, voltage_v, current_a, average_power_10s_w, remaining_capacity_wh, full_charge_capacity_wh, hours_to_full_charge})
        w.put(f16::from_float(f), 16);
    w.put(status_flags & 0x7FF, 11).put(state_of_health_pct & 0x7F, 7).put(state_of_charge_pct & 0x7F, 7).put(state_of_charge_pct_stdev & 0x7F, 7);
    w.put(battery_id, 8).put(model_instance_id, 32);
    for (std::size_t i = 0; i < std::min<std::size_t>(model_name.size(), 31); ++i) w.put(static_cast<std::uint8_t>(model_name[i]), 8);
    return w.take();
}
Result<BatteryInfo> BatteryInfo::decode(ByteView p) {
    if (p.size() < 23) return truncated("BatteryInfo", p.size());
    BitReader r(p);
    BatteryInfo b;
    for (float* f : {&b.temperature_k, &b.voltage_v, &b.current_a, &b.average_power_10s_w, &b.remaining_capacity_wh, &b.full_charge_capacity_wh,
                     &b.hours_to_full_charge})
        *f = f16::to_float(static_cast<std::uint16_t>(*r.get(16)));
    b.status_flags = static_cast<std::uint16_t>(*r.get(11));
    b.state_of_health_pct = static_cast<std::uint8_t>(*r.get(7));
    b.state_of_charge_pct = static_cast<std::uint8_t>(*r.get(7));
    b.state_of_charge_pct_stdev = static_cast<std::uint8_t>(*r.get(7));
    b.battery_id = static_cast<std::uint8_t>(*r.get(8));
    b.model_instance_id = static_cast<std::uint32_t>(*r.get(32));
    while (r.remaining_bits() >= 8 && b.model_name.size() < 31) b.model_name.push_back(static_cast<char>(*r.get(8)));
    return b;
}

std::optional<std::uint64_t> known_signature(Kind kind, std::uint16_t id) {
    if (kind == Kind::message) {
        switch (id) {
        case NodeStatus::id: return NodeStatus::signature;
        case EscRawCommand::id: return EscRawCommand::signature;
        case EscStatus::id: return EscStatus::signature;
        case BatteryInfo::id: return BatteryInfo::signature;
        default: return std::nullopt;
        }
    }
    if (id == GetNodeInfo::id) return GetNodeInfo::signature;
    return std::nullopt;
}

}  // namespace rig::dronecan
