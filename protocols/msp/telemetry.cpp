#include "protocols/msp/telemetry.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace rig::msp {
namespace {
Error truncated(const char* what, std::size_t got) {
    return make_error(Errc::protocol_error, fmt::format("msp: {} payload truncated ({} bytes)", what, got));
}
std::uint16_t centi(double v) { return static_cast<std::uint16_t>(std::clamp(std::round(v * 100), 0.0, 65535.0)); }
}  // namespace

template <std::uint16_t C>
Bytes StatusT<C>::encode() const {
    ByteWriter w;
    w.u16le(cycle_time_us).u16le(i2c_errors).u16le(sensors).u32le(box_flags).u8(pid_profile).u16le(system_load_pct);
    if constexpr (C == cmd::status_ex) w.u8(pid_profile_count).u8(rate_profile);
    else w.u16le(0);
    w.u8(static_cast<std::uint8_t>(extra_box_flags.size()));
    for (auto b : extra_box_flags) w.u8(b);
    w.u8(arming_disable_count).u32le(arming_disable_flags).u8(config_state).u16le(cpu_temp_c);
    w.u8(rate_profile_count).u8(battery_profile_count).u8(battery_profile);
    return w.take();
}

template <std::uint16_t C>
Result<StatusT<C>> StatusT<C>::decode(ByteView p) {
    ByteReader r(p);
    StatusT s;
    auto a = r.u16le(), b = r.u16le(), c = r.u16le();
    auto boxes = r.u32le();
    auto prof = r.u8();
    auto load = r.u16le();
    auto x = r.u8(), y = r.u8();
    auto n = r.u8();
    if (!n) return truncated(C == cmd::status ? "STATUS" : "STATUS_EX", p.size());
    s.cycle_time_us = *a;
    s.i2c_errors = *b;
    s.sensors = *c;
    s.box_flags = *boxes;
    s.pid_profile = *prof;
    s.system_load_pct = *load;
    if constexpr (C == cmd::status_ex) {
        s.pid_profile_count = *x;
        s.rate_profile = *y;
    }
    auto extra = r.take(*n);
    if (!extra) return truncated("STATUS box flags", p.size());
    for (auto e : *extra) s.extra_box_flags.push_back(std::to_integer<std::uint8_t>(e));
    // Tail fields arrived over API versions: read what is there.
    if (auto v = r.u8()) s.arming_disable_count = *v; else return s;
    if (auto v = r.u32le()) s.arming_disable_flags = *v; else return s;
    if (auto v = r.u8()) s.config_state = *v; else return s;
    if (auto v = r.u16le()) s.cpu_temp_c = *v; else return s;
    if (auto v = r.u8()) s.rate_profile_count = *v; else return s;
    if (auto v = r.u8()) s.battery_profile_count = *v; else return s;
    if (auto v = r.u8()) s.battery_profile = *v;
    return s;
}

template struct StatusT<cmd::status>;
template struct StatusT<cmd::status_ex>;

Bytes Attitude::encode() const {
    return ByteWriter()
        .i16le(static_cast<std::int16_t>(std::lround(roll_deg * 10)))
        .i16le(static_cast<std::int16_t>(std::lround(pitch_deg * 10)))
        .i16le(yaw_deg)
        .take();
}
Result<Attitude> Attitude::decode(ByteView p) {
    ByteReader r(p);
    auto roll = r.i16le(), pitch = r.i16le(), yaw = r.i16le();
    if (!yaw) return truncated("ATTITUDE", p.size());
    return Attitude{*roll / 10.0, *pitch / 10.0, *yaw};
}

Bytes Altitude::encode() const { return ByteWriter().i32le(altitude_cm).i16le(vario_cm_s).take(); }
Result<Altitude> Altitude::decode(ByteView p) {
    ByteReader r(p);
    auto alt = r.i32le();
    if (!alt) return truncated("ALTITUDE", p.size());
    return Altitude{*alt, r.i16le().value_or(0)};
}

Bytes BatteryState::encode() const {
    ByteWriter w;
    w.u8(cell_count).u16le(capacity_mah).u8(static_cast<std::uint8_t>(std::clamp(std::round(voltage_v * 10), 0.0, 255.0))).u16le(mah_drawn);
    w.i16le(static_cast<std::int16_t>(std::clamp(std::round(current_a * 100), -32768.0, 32767.0))).u8(static_cast<std::uint8_t>(state)).u16le(centi(voltage_v));
    return w.take();
}
Result<BatteryState> BatteryState::decode(ByteView p) {
    ByteReader r(p);
    auto cells = r.u8();
    auto cap = r.u16le();
    auto legacy = r.u8();
    auto drawn = r.u16le();
    auto amps = r.i16le();
    auto state = r.u8();
    if (!cells || !cap || !legacy || !drawn || !amps || !state) return truncated("BATTERY_STATE", p.size());
    BatteryState b;
    b.cell_count = *cells;
    b.capacity_mah = *cap;
    b.mah_drawn = *drawn;
    b.current_a = *amps / 100.0;
    b.state = static_cast<State>(*state);
    auto cv = r.u16le();
    b.voltage_v = cv ? *cv / 100.0 : *legacy / 10.0;
    return b;
}

Bytes Rc::encode() const {
    ByteWriter w;
    for (auto v : channels_us) w.u16le(v);
    return w.take();
}
Result<Rc> Rc::decode(ByteView p) {
    if (p.size() % 2) return truncated("RC (odd length)", p.size());
    ByteReader r(p);
    Rc rc;
    while (auto v = r.u16le()) rc.channels_us.push_back(*v);
    return rc;
}

Bytes VtxConfig::encode() const {
    return ByteWriter()
        .u8(device_type).u8(band).u8(channel).u8(power_index).u8(pit_mode).u16le(frequency_mhz).u8(device_ready).u8(low_power_disarm)
        .u16le(pit_frequency_mhz).u8(table_available).u8(table_bands).u8(table_channels).u8(table_power_levels).take();
}
Bytes SetVtxConfig::encode() const {
    const std::uint16_t code = band ? static_cast<std::uint16_t>((band - 1) * 8 + (channel - 1)) : frequency_mhz;
    return ByteWriter().u16le(code).u8(power_index).u8(pit_mode).take();
}
Result<SetVtxConfig> SetVtxConfig::decode(ByteView p) {
    ByteReader r(p);
    auto code = r.u16le();
    if (!code) return truncated("SET_VTX_CONFIG", p.size());
    SetVtxConfig v;
    if (*code <= kMaxBandChannelCode) {
        v.band = static_cast<std::uint8_t>(*code / 8 + 1);
        v.channel = static_cast<std::uint8_t>(*code % 8 + 1);
    } else {
        v.frequency_mhz = *code;
    }
    auto power = r.u8(), pit = r.u8();
    if (power && pit) {
        v.power_index = *power;
        v.pit_mode = *pit;
    }
    return v;
}
Result<VtxConfig> VtxConfig::decode(ByteView p) {
    ByteReader r(p);
    VtxConfig v;
    auto a = r.u8(), b = r.u8(), c = r.u8(), d = r.u8(), e = r.u8();
    auto f = r.u16le();
    auto g = r.u8(), h = r.u8();
    if (!h) return truncated("VTX_CONFIG", p.size());
    v.device_type = *a;
    v.band = *b;
    v.channel = *c;
    v.power_index = *d;
    v.pit_mode = *e;
    v.frequency_mhz = *f;
    v.device_ready = *g;
    v.low_power_disarm = *h;
    if (auto x = r.u16le()) v.pit_frequency_mhz = *x; else return v;
    if (auto x = r.u8()) v.table_available = *x; else return v;
    if (auto x = r.u8()) v.table_bands = *x; else return v;
    if (auto x = r.u8()) v.table_channels = *x; else return v;
    if (auto x = r.u8()) v.table_power_levels = *x;
    return v;
}

Bytes SensorAlignment::encode() const {
    return ByteWriter().u8(gyro).u8(acc).u8(mag).u8(detected_gyros).u8(gyro_enabled).i16le(mag_roll_decideg).i16le(mag_pitch_decideg).i16le(mag_yaw_decideg).take();
}
Result<SensorAlignment> SensorAlignment::decode(ByteView p) {
    ByteReader r(p);
    SensorAlignment s;
    auto a = r.u8(), b = r.u8(), c = r.u8();
    if (!c) return truncated("SENSOR_ALIGNMENT", p.size());
    s.gyro = *a;
    s.acc = *b;
    s.mag = *c;
    if (auto v = r.u8()) s.detected_gyros = *v; else return s;
    if (auto v = r.u8()) s.gyro_enabled = *v; else return s;
    if (auto v = r.i16le()) s.mag_roll_decideg = *v; else return s;
    if (auto v = r.i16le()) s.mag_pitch_decideg = *v; else return s;
    if (auto v = r.i16le()) s.mag_yaw_decideg = *v;
    return s;
}

}  // namespace rig::msp
