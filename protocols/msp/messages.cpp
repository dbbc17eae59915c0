#include "protocols/msp/messages.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace rig::msp {
namespace {

Error truncated(const char* what, std::size_t got) {
    return make_error(Errc::protocol_error, fmt::format("msp: {} payload truncated ({} bytes)", what, got));
}

std::uint16_t scaled_u16(double value, double scale) {
    const double v = std::round(value * scale);
    return static_cast<std::uint16_t>(std::clamp(v, 0.0, 65535.0));
}
std::int16_t scaled_i16(double value, double scale) {
    const double v = std::round(value * scale);
    return static_cast<std::int16_t>(std::clamp(v, -32768.0, 32767.0));
}

}  // namespace

Bytes ApiVersion::encode() const { return ByteWriter().u8(protocol).u8(major).u8(minor).take(); }
Result<ApiVersion> ApiVersion::decode(ByteView p) {
    ByteReader r(p);
    auto a = r.u8(), b = r.u8(), c = r.u8();
    if (!c) return truncated("API_VERSION", p.size());
    return ApiVersion{*a, *b, *c};
}

Bytes FcVariant::encode() const {
    std::string id = identifier;
    id.resize(4, ' ');
    return ByteWriter().chars(id).take();
}
Result<FcVariant> FcVariant::decode(ByteView p) {
    ByteReader r(p);
    auto id = r.chars(4);
    if (!id) return truncated("FC_VARIANT", p.size());
    return FcVariant{*id};
}

Bytes FcVersion::encode() const {
    ByteWriter w;
    w.u8(year).u8(month).u8(patch);
    if (!full.empty()) w.pstring(full);
    return w.take();
}
Result<FcVersion> FcVersion::decode(ByteView p) {
    ByteReader r(p);
    FcVersion v;
    auto a = r.u8(), b = r.u8(), c = r.u8();
    if (!c) return truncated("FC_VERSION", p.size());
    v.year = *a;
    v.month = *b;
    v.patch = *c;
    if (!r.empty()) {
        auto s = r.pstring();
        if (!s) return truncated("FC_VERSION", p.size());
        v.full = *s;
    }
    return v;
}
std::string FcVersion::text() const {
    if (!full.empty()) return full;
    return fmt::format("{}.{}.{}", year, month, patch);
}

Bytes BoardInfo::encode() const {
    std::string id = board_id;
    id.resize(4, ' ');
    ByteWriter w;
    w.chars(id).u16le(hardware_revision).u8(board_type).u8(capabilities);
    w.pstring(target_name).pstring(board_name).pstring(manufacturer_id);
    for (int i = 0; i < 32; ++i) w.u8(0);  // signature
    w.u8(mcu_type).u8(configuration_state).u16le(gyro_rate_hz).u32le(configuration_problems);
    w.u8(0).u8(0);  // SPI and I2C device counts
    return w.take();
}
Result<BoardInfo> BoardInfo::decode(ByteView p) {
    ByteReader r(p);
    BoardInfo b;
    auto id = r.chars(4);
    auto rev = r.u16le();
    auto type = r.u8();
    auto caps = r.u8();
    auto target = r.pstring();
    if (!id || !rev || !type || !caps || !target) return truncated("BOARD_INFO", p.size());
    b.board_id = *id;
    b.hardware_revision = *rev;
    b.board_type = *type;
    b.capabilities = *caps;
    b.target_name = *target;
    // Everything after the target name was appended in later API versions: parse what is there.
    if (auto s = r.pstring()) b.board_name = *s; else return b;
    if (auto s = r.pstring()) b.manufacturer_id = *s; else return b;
    if (!r.take(32)) return b;
    if (auto v = r.u8()) b.mcu_type = *v; else return b;
    if (auto v = r.u8()) b.configuration_state = *v; else return b;
    if (auto v = r.u16le()) b.gyro_rate_hz = *v; else return b;
    if (auto v = r.u32le()) b.configuration_problems = *v;
    return b;
}

Bytes Uid::encode() const { return ByteWriter().u32le(words[0]).u32le(words[1]).u32le(words[2]).take(); }
Result<Uid> Uid::decode(ByteView p) {
    ByteReader r(p);
    auto a = r.u32le(), b = r.u32le(), c = r.u32le();
    if (!c) return truncated("UID", p.size());
    return Uid{{*a, *b, *c}};
}
std::string Uid::hex() const { return fmt::format("{:08x}{:08x}{:08x}", words[0], words[1], words[2]); }

Bytes Analog::encode() const {
    ByteWriter w;
    const double legacy = std::clamp(std::round(vbat_v * 10), 0.0, 255.0);
    w.u8(static_cast<std::uint8_t>(legacy)).u16le(mah_drawn).u16le(rssi);
    w.i16le(scaled_i16(current_a, 100)).u16le(scaled_u16(vbat_v, 100));
    return w.take();
}
Result<Analog> Analog::decode(ByteView p) {
    ByteReader r(p);
    auto legacy = r.u8();
    auto mah = r.u16le();
    auto rssi = r.u16le();
    auto amps = r.i16le();
    if (!amps) return truncated("ANALOG", p.size());
    Analog a;
    a.mah_drawn = *mah;
    a.rssi = *rssi;
    a.current_a = *amps / 100.0;
    // Firmware older than the 0.01 V field sends 7 bytes: fall back to the 0.1 V byte.
    auto centivolts = r.u16le();
    a.vbat_v = centivolts ? *centivolts / 100.0 : *legacy / 10.0;
    return a;
}

Bytes RawImu::encode() const {
    ByteWriter w;
    for (auto v : acc) w.i16le(v);
    for (auto v : gyro) w.i16le(v);
    for (auto v : mag) w.i16le(v);
    return w.take();
}
Result<RawImu> RawImu::decode(ByteView p) {
    if (p.size() < 18) return truncated("RAW_IMU", p.size());
    ByteReader r(p);
    RawImu m;
    for (auto& v : m.acc) v = *r.i16le();
    for (auto& v : m.gyro) v = *r.i16le();
    for (auto& v : m.mag) v = *r.i16le();
    return m;
}

Bytes Motor::encode() const {
    ByteWriter w;
    for (auto v : value) w.u16le(v);
    return w.take();
}
Result<Motor> Motor::decode(ByteView p) {
    ByteReader r(p);
    Motor m;
    for (auto& v : m.value) {
        auto x = r.u16le();
        if (!x) break;  // fewer motors reported: the rest read 0 (not present)
        v = *x;
    }
    return m;
}

SetMotor SetMotor::all_stopped() {
    SetMotor m;
    m.value.fill(kMotorStop);
    return m;
}
Bytes SetMotor::encode() const {
    ByteWriter w;
    for (auto v : value) w.u16le(v);
    return w.take();
}
Result<SetMotor> SetMotor::decode(ByteView p) {
    if (p.size() < 2 * kMaxMotors) return truncated("SET_MOTOR", p.size());
    ByteReader r(p);
    SetMotor m;
    for (auto& v : m.value) v = *r.u16le();
    return m;
}

Bytes MotorTelemetry::encode() const {
    ByteWriter w;
    w.u8(static_cast<std::uint8_t>(motors.size()));
    for (const auto& m : motors) {
        w.u32le(m.rpm).u16le(scaled_u16(m.invalid_pct, 100)).u8(m.temperature_c);
        w.u16le(scaled_u16(m.voltage_v, 100)).u16le(scaled_u16(m.current_a, 100)).u16le(m.consumption_mah);
    }
    return w.take();
}
Bytes MotorConfig::encode() const {
    ByteWriter w;
    w.u16le(min_throttle).u16le(max_throttle).u16le(min_command);
    if (has_telemetry_fields) w.u8(motor_count).u8(motor_poles).u8(dshot_telemetry ? 1 : 0).u8(esc_sensor ? 1 : 0);
    return w.take();
}

Result<MotorConfig> MotorConfig::decode(ByteView p) {
    ByteReader r(p);
    auto lo = r.u16le(), hi = r.u16le(), cmd = r.u16le();
    if (!lo || !hi || !cmd) return truncated("MOTOR_CONFIG", p.size());
    MotorConfig m{*lo, *hi, *cmd, 0, 14, false, false, false};
    if (r.empty()) return m;
    auto count = r.u8(), poles = r.u8(), dshot = r.u8(), esc = r.u8();
    if (!count || !poles || !dshot || !esc) return truncated("MOTOR_CONFIG", p.size());
    m.motor_count = *count;
    m.motor_poles = *poles;
    m.dshot_telemetry = *dshot != 0;
    m.esc_sensor = *esc != 0;
    m.has_telemetry_fields = true;
    return m;
}

std::string command_name(std::uint16_t command) {
    static const std::pair<std::uint16_t, const char*> names[] = {
        {cmd::api_version, "MSP_API_VERSION"}, {cmd::fc_variant, "MSP_FC_VARIANT"}, {cmd::fc_version, "MSP_FC_VERSION"},
        {cmd::board_info, "MSP_BOARD_INFO"}, {cmd::raw_imu, "MSP_RAW_IMU"}, {cmd::motor, "MSP_MOTOR"},
        {cmd::analog, "MSP_ANALOG"}, {cmd::motor_config, "MSP_MOTOR_CONFIG"}, {cmd::motor_telemetry, "MSP_MOTOR_TELEMETRY"},
        {cmd::uid, "MSP_UID"}, {cmd::set_motor, "MSP_SET_MOTOR"},
    };
    for (const auto& [id, name] : names)
        if (id == command) return fmt::format("{} ({})", name, command);
    return fmt::format("MSP command {}", command);
}

Result<MotorTelemetry> MotorTelemetry::decode(ByteView p) {
    ByteReader r(p);
    auto count = r.u8();
    if (!count) return truncated("MOTOR_TELEMETRY", p.size());
    if (r.remaining() < std::size_t{*count} * 13) return truncated("MOTOR_TELEMETRY", p.size());
    MotorTelemetry t;
    for (int i = 0; i < *count; ++i) {
        MotorTelemetryEntry e;
        e.rpm = *r.u32le();
        e.invalid_pct = *r.u16le() / 100.0;
        e.temperature_c = *r.u8();
        e.voltage_v = *r.u16le() / 100.0;
        e.current_a = *r.u16le() / 100.0;
        e.consumption_mah = *r.u16le();
        t.motors.push_back(e);
    }
    return t;
}

}  // namespace rig::msp
