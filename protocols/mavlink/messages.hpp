// Typed MAVLink messages. Each struct is the one table of its message: id, name, CRC_EXTRA and
// lengths in `info`, and its fields in wire order in `fields()` (reference/protocols.md §3.8).
// Encoding and decoding are generic over that list, so a layout is written exactly once.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"
#include "protocols/mavlink/frame.hpp"

namespace rig::mavlink {

template <std::size_t N>
using Chars = std::array<char, N>;

template <std::size_t N>
std::string to_string(const Chars<N>& c) {
    std::size_t n = 0;
    while (n < N && c[n] != '\0') ++n;
    return std::string(c.data(), n);
}
template <std::size_t N>
Chars<N> to_chars(std::string_view s) {
    Chars<N> c{};
    for (std::size_t i = 0; i < N && i < s.size(); ++i) c[i] = s[i];
    return c;
}

#define RIG_MAVLINK_INFO(ID, NAME, EXTRA, FULL, BASE) \
    static constexpr MessageInfo info{ID, NAME, EXTRA, FULL, BASE}

struct Heartbeat {
    RIG_MAVLINK_INFO(0, "HEARTBEAT", 50, 9, 9);
    std::uint32_t custom_mode = 0;
    std::uint8_t type = 0, autopilot = 0, base_mode = 0, system_status = 0, mavlink_version = 3;
    template <class V> void fields(V& v) { v(custom_mode), v(type), v(autopilot), v(base_mode), v(system_status), v(mavlink_version); }
    bool operator==(const Heartbeat&) const = default;
};

struct SysStatus {
    RIG_MAVLINK_INFO(1, "SYS_STATUS", 124, 43, 31);
    std::uint32_t sensors_present = 0, sensors_enabled = 0, sensors_health = 0;
    std::uint16_t load = 0, voltage_battery_mv = 0;
    std::int16_t current_battery_ca = 0;
    std::uint16_t drop_rate_comm = 0, errors_comm = 0, errors_count1 = 0, errors_count2 = 0, errors_count3 = 0, errors_count4 = 0;
    std::int8_t battery_remaining = 0;
    std::uint32_t sensors_present_extended = 0, sensors_enabled_extended = 0, sensors_health_extended = 0;  // ext
    template <class V> void fields(V& v) {
        v(sensors_present), v(sensors_enabled), v(sensors_health), v(load), v(voltage_battery_mv), v(current_battery_ca),
            v(drop_rate_comm), v(errors_comm), v(errors_count1), v(errors_count2), v(errors_count3), v(errors_count4),
            v(battery_remaining), v(sensors_present_extended), v(sensors_enabled_extended), v(sensors_health_extended);
    }
    bool operator==(const SysStatus&) const = default;
};

struct ParamRequestRead {
    RIG_MAVLINK_INFO(20, "PARAM_REQUEST_READ", 214, 20, 20);
    std::int16_t param_index = -1;
    std::uint8_t target_system = 0, target_component = 0;
    Chars<16> param_id{};
    template <class V> void fields(V& v) { v(param_index), v(target_system), v(target_component), v(param_id); }
    bool operator==(const ParamRequestRead&) const = default;
};

struct ParamRequestList {
    RIG_MAVLINK_INFO(21, "PARAM_REQUEST_LIST", 159, 2, 2);
    std::uint8_t target_system = 0, target_component = 0;
    template <class V> void fields(V& v) { v(target_system), v(target_component); }
    bool operator==(const ParamRequestList&) const = default;
};

struct ParamValue {
    RIG_MAVLINK_INFO(22, "PARAM_VALUE", 220, 25, 25);
    float param_value = 0;
    std::uint16_t param_count = 0, param_index = 0;
    Chars<16> param_id{};
    std::uint8_t param_type = 0;
    template <class V> void fields(V& v) { v(param_value), v(param_count), v(param_index), v(param_id), v(param_type); }
    bool operator==(const ParamValue&) const = default;
};

struct ParamSet {
    RIG_MAVLINK_INFO(23, "PARAM_SET", 168, 23, 23);
    float param_value = 0;
    std::uint8_t target_system = 0, target_component = 0;
    Chars<16> param_id{};
    std::uint8_t param_type = 0;
    template <class V> void fields(V& v) { v(param_value), v(target_system), v(target_component), v(param_id), v(param_type); }
    bool operator==(const ParamSet&) const = default;
};

struct GpsRawInt {
    RIG_MAVLINK_INFO(24, "GPS_RAW_INT", 24, 52, 30);
    std::uint64_t time_usec = 0;
    std::int32_t lat = 0, lon = 0, alt = 0;
    std::uint16_t eph = 0, epv = 0, vel = 0, cog = 0;
    std::uint8_t fix_type = 0, satellites_visible = 0;
    std::int32_t alt_ellipsoid = 0;                                   // ext
    std::uint32_t h_acc = 0, v_acc = 0, vel_acc = 0, hdg_acc = 0;      // ext
    std::uint16_t yaw = 0;                                            // ext
    template <class V> void fields(V& v) {
        v(time_usec), v(lat), v(lon), v(alt), v(eph), v(epv), v(vel), v(cog), v(fix_type), v(satellites_visible), v(alt_ellipsoid),
            v(h_acc), v(v_acc), v(vel_acc), v(hdg_acc), v(yaw);
    }
    bool operator==(const GpsRawInt&) const = default;
};

struct ScaledImu {
    RIG_MAVLINK_INFO(26, "SCALED_IMU", 170, 24, 22);
    std::uint32_t time_boot_ms = 0;
    std::int16_t xacc = 0, yacc = 0, zacc = 0, xgyro = 0, ygyro = 0, zgyro = 0, xmag = 0, ymag = 0, zmag = 0;
    std::int16_t temperature = 0;  // ext
    template <class V> void fields(V& v) {
        v(time_boot_ms), v(xacc), v(yacc), v(zacc), v(xgyro), v(ygyro), v(zgyro), v(xmag), v(ymag), v(zmag), v(temperature);
    }
    bool operator==(const ScaledImu&) const = default;
};

struct RawImu {
    RIG_MAVLINK_INFO(27, "RAW_IMU", 144, 29, 26);
    std::uint64_t time_usec = 0;
    std::int16_t xacc = 0, yacc = 0, zacc = 0, xgyro = 0, ygyro = 0, zgyro = 0, xmag = 0, ymag = 0, zmag = 0;
    std::uint8_t id = 0;           // ext
    std::int16_t temperature = 0;  // ext
    template <class V> void fields(V& v) {
        v(time_usec), v(xacc), v(yacc), v(zacc), v(xgyro), v(ygyro), v(zgyro), v(xmag), v(ymag), v(zmag), v(id), v(temperature);
    }
    bool operator==(const RawImu&) const = default;
};

struct ScaledPressure {
    RIG_MAVLINK_INFO(29, "SCALED_PRESSURE", 115, 16, 14);
    std::uint32_t time_boot_ms = 0;
    float press_abs = 0, press_diff = 0;
    std::int16_t temperature = 0;
    std::int16_t temperature_press_diff = 0;  // ext
    template <class V> void fields(V& v) { v(time_boot_ms), v(press_abs), v(press_diff), v(temperature), v(temperature_press_diff); }
    bool operator==(const ScaledPressure&) const = default;
};

struct Attitude {
    RIG_MAVLINK_INFO(30, "ATTITUDE", 39, 28, 28);
    std::uint32_t time_boot_ms = 0;
    float roll = 0, pitch = 0, yaw = 0, rollspeed = 0, pitchspeed = 0, yawspeed = 0;
    template <class V> void fields(V& v) { v(time_boot_ms), v(roll), v(pitch), v(yaw), v(rollspeed), v(pitchspeed), v(yawspeed); }
    bool operator==(const Attitude&) const = default;
};

struct RcChannels {
    RIG_MAVLINK_INFO(65, "RC_CHANNELS", 118, 42, 42);
    std::uint32_t time_boot_ms = 0;
    std::array<std::uint16_t, 18> chan_raw{};  // µs; UINT16_MAX: unused
    std::uint8_t chancount = 0, rssi = 0;      // rssi 255: unknown
    template <class V> void fields(V& v) { v(time_boot_ms), v(chan_raw), v(chancount), v(rssi); }
    bool operator==(const RcChannels&) const = default;
};

struct CommandLong {
    RIG_MAVLINK_INFO(76, "COMMAND_LONG", 152, 33, 33);
    std::array<float, 7> param{};
    std::uint16_t command = 0;
    std::uint8_t target_system = 0, target_component = 0, confirmation = 0;
    template <class V> void fields(V& v) { v(param), v(command), v(target_system), v(target_component), v(confirmation); }
    bool operator==(const CommandLong&) const = default;
};

struct CommandAck {
    RIG_MAVLINK_INFO(77, "COMMAND_ACK", 143, 10, 3);
    std::uint16_t command = 0;
    std::uint8_t result = 0;
    std::uint8_t progress = 0;                            // ext
    std::int32_t result_param2 = 0;                       // ext
    std::uint8_t target_system = 0, target_component = 0;  // ext
    template <class V> void fields(V& v) { v(command), v(result), v(progress), v(result_param2), v(target_system), v(target_component); }
    bool operator==(const CommandAck&) const = default;
};

struct RadioStatus {
    RIG_MAVLINK_INFO(109, "RADIO_STATUS", 185, 9, 9);
    std::uint16_t rxerrors = 0, fixed = 0;
    std::uint8_t rssi = 0, remrssi = 0, txbuf = 0, noise = 0, remnoise = 0;
    template <class V> void fields(V& v) { v(rxerrors), v(fixed), v(rssi), v(remrssi), v(txbuf), v(noise), v(remnoise); }
    bool operator==(const RadioStatus&) const = default;
};

struct BatteryStatus {
    RIG_MAVLINK_INFO(147, "BATTERY_STATUS", 154, 54, 36);
    std::int32_t current_consumed = 0, energy_consumed = 0;
    std::int16_t temperature = 0;
    std::array<std::uint16_t, 10> voltages{};
    std::int16_t current_battery = 0;
    std::uint8_t id = 0, battery_function = 0, type = 0;
    std::int8_t battery_remaining = 0;
    std::int32_t time_remaining = 0;              // ext
    std::uint8_t charge_state = 0;                // ext
    std::array<std::uint16_t, 4> voltages_ext{};  // ext
    std::uint8_t mode = 0;                        // ext
    std::uint32_t fault_bitmask = 0;              // ext
    template <class V> void fields(V& v) {
        v(current_consumed), v(energy_consumed), v(temperature), v(voltages), v(current_battery), v(id), v(battery_function), v(type),
            v(battery_remaining), v(time_remaining), v(charge_state), v(voltages_ext), v(mode), v(fault_bitmask);
    }
    bool operator==(const BatteryStatus&) const = default;
};

struct AutopilotVersion {
    RIG_MAVLINK_INFO(148, "AUTOPILOT_VERSION", 178, 78, 60);
    std::uint64_t capabilities = 0, uid = 0;
    std::uint32_t flight_sw_version = 0, middleware_sw_version = 0, os_sw_version = 0, board_version = 0;
    std::uint16_t vendor_id = 0, product_id = 0;
    std::array<std::uint8_t, 8> flight_custom_version{}, middleware_custom_version{}, os_custom_version{};
    std::array<std::uint8_t, 18> uid2{};  // ext
    template <class V> void fields(V& v) {
        v(capabilities), v(uid), v(flight_sw_version), v(middleware_sw_version), v(os_sw_version), v(board_version), v(vendor_id),
            v(product_id), v(flight_custom_version), v(middleware_custom_version), v(os_custom_version), v(uid2);
    }
    bool operator==(const AutopilotVersion&) const = default;
};

struct StatusText {
    RIG_MAVLINK_INFO(253, "STATUSTEXT", 83, 54, 51);
    std::uint8_t severity = 0;
    Chars<50> text{};
    std::uint16_t id = 0;        // ext
    std::uint8_t chunk_seq = 0;  // ext
    template <class V> void fields(V& v) { v(severity), v(text), v(id), v(chunk_seq); }
    bool operator==(const StatusText&) const = default;
};

struct EscInfo {
    RIG_MAVLINK_INFO(290, "ESC_INFO", 251, 46, 46);
    std::uint64_t time_usec = 0;
    std::array<std::uint32_t, 4> error_count{};
    std::uint16_t counter = 0;
    std::array<std::uint16_t, 4> failure_flags{};
    std::array<std::int16_t, 4> temperature{};
    std::uint8_t index = 0, count = 0, connection_type = 0, info_bits = 0;
    template <class V> void fields(V& v) {
        v(time_usec), v(error_count), v(counter), v(failure_flags), v(temperature), v(index), v(count), v(connection_type), v(info_bits);
    }
    bool operator==(const EscInfo&) const = default;
};

struct EscStatus {
    RIG_MAVLINK_INFO(291, "ESC_STATUS", 10, 57, 57);
    std::uint64_t time_usec = 0;
    std::array<std::int32_t, 4> rpm{};
    std::array<float, 4> voltage{}, current{};
    std::uint8_t index = 0;
    template <class V> void fields(V& v) { v(time_usec), v(rpm), v(voltage), v(current), v(index); }
    bool operator==(const EscStatus&) const = default;
};

// ardupilotmega.xml: BLHeli/DShot ESC telemetry of ESCs 1-4 (ArduPilot's only ESC telemetry
// message; CRC_EXTRA 144 computed from the XML as mavgen does).
struct EscTelemetry1To4 {
    RIG_MAVLINK_INFO(11030, "ESC_TELEMETRY_1_TO_4", 144, 44, 44);
    std::array<std::uint16_t, 4> voltage{};       // cV
    std::array<std::uint16_t, 4> current{};       // cA
    std::array<std::uint16_t, 4> totalcurrent{};  // mAh
    std::array<std::uint16_t, 4> rpm{};
    std::array<std::uint16_t, 4> count{};
    std::array<std::uint8_t, 4> temperature{};    // degC
    template <class V> void fields(V& v) { v(voltage), v(current), v(totalcurrent), v(rpm), v(count), v(temperature); }
    bool operator==(const EscTelemetry1To4&) const = default;
};

#undef RIG_MAVLINK_INFO

// --- generic encode/decode over fields() ---

namespace detail {
struct Writer {
    ByteWriter w;
    template <class T> void operator()(const T& v) {
        if constexpr (std::is_same_v<T, float>) w.f32le(v);
        else if constexpr (std::is_same_v<T, char>) w.u8(static_cast<std::uint8_t>(v));
        else if constexpr (std::is_integral_v<T>) {
            using U = std::make_unsigned_t<T>;
            const U u = static_cast<U>(v);
            for (std::size_t i = 0; i < sizeof(T); ++i) w.u8(static_cast<std::uint8_t>(u >> (8 * i)));
        } else {
            for (const auto& e : v) (*this)(e);
        }
    }
};
struct Reader {
    ByteReader r;
    template <class T> void operator()(T& v) {
        if constexpr (std::is_same_v<T, float>) v = r.f32le().value_or(0.0f);
        else if constexpr (std::is_same_v<T, char>) v = static_cast<char>(r.u8().value_or(0));
        else if constexpr (std::is_integral_v<T>) {
            using U = std::make_unsigned_t<T>;
            U u = 0;
            for (std::size_t i = 0; i < sizeof(T); ++i) u = static_cast<U>(u | (static_cast<U>(r.u8().value_or(0)) << (8 * i)));
            v = static_cast<T>(u);
        } else {
            for (auto& e : v) (*this)(e);
        }
    }
};
}  // namespace detail

// The full payload (base + extensions), untruncated.
template <class M>
Bytes payload(const M& m) {
    detail::Writer w;
    const_cast<M&>(m).fields(w);
    return w.w.take();
}

// Decodes a received frame: the id must match; the payload is zero-extended first (§3.4).
template <class M>
Result<M> decode(const Frame& f) {
    if (f.msgid != M::info.id)
        return make_error(Errc::protocol_error, std::string("mavlink: expected ") + M::info.name + ", got message " + std::to_string(f.msgid));
    Bytes full = f.payload;
    full.resize(M::info.full_len, std::byte{0});
    M m;
    detail::Reader r{ByteReader(full)};
    m.fields(r);
    return m;
}

// The same from a view, without allocating: the payload is zero-extended on the stack.
template <class M>
Result<M> decode(const FrameView& f) {
    if (f.msgid != M::info.id)
        return make_error(Errc::protocol_error, std::string("mavlink: expected ") + M::info.name + ", got message " + std::to_string(f.msgid));
    std::array<std::byte, 256> full{};
    const std::size_t n = std::min<std::size_t>(f.payload.size(), M::info.full_len);
    std::copy_n(f.payload.begin(), n, full.begin());
    M m;
    detail::Reader r{ByteReader(ByteView(full.data(), M::info.full_len))};
    m.fields(r);
    return m;
}

template <class M>
Bytes encode(const Header& h, const M& m, const SigningKey* key = nullptr, std::uint64_t timestamp = 0) {
    return encode_v2(h, M::info.id, payload(m), key, timestamp);
}

// --- commands (§3.9) ---

namespace cmd {
inline constexpr std::uint16_t do_motor_test = 209;
inline constexpr std::uint16_t preflight_calibration = 241;
inline constexpr std::uint16_t preflight_reboot_shutdown = 246;
inline constexpr std::uint16_t set_message_interval = 511;
inline constexpr std::uint16_t request_message = 512;
}  // namespace cmd

enum class MotorTestThrottle : std::uint8_t { percent = 0, pwm = 1, pilot = 2, compass_cal = 3 };
enum class MavResult : std::uint8_t { accepted = 0, temporarily_rejected = 1, denied = 2, unsupported = 3, failed = 4, in_progress = 5, cancelled = 6 };

struct Target {
    std::uint8_t system = 1, component = 1;
};

CommandLong motor_test(Target t, int motor_1based, MotorTestThrottle type, float value, float timeout_s, int count = 0);
CommandLong request_message(Target t, std::uint32_t message_id);
CommandLong set_message_interval(Target t, std::uint32_t message_id, double hz);  // hz <= 0: stop it
// "MAV_CMD_DO_MOTOR_TEST (209)": errors name commands as the XML does.
std::string command_name(std::uint16_t command);
const char* result_name(std::uint8_t result);  // "DENIED"

// MAV_SYS_STATUS_SENSOR bits and MAV_AUTOPILOT values rig reads.
inline constexpr std::uint32_t kSensorRcReceiver = 0x10000;
inline constexpr std::uint8_t kAutopilotArdupilot = 3, kAutopilotInvalid = 8, kAutopilotPx4 = 12;
// MAV_PROTOCOL_CAPABILITY: how integer parameters are carried in PARAM_VALUE's float field.
inline constexpr std::uint64_t kCapabilityParamEncodeBytewise = 16, kCapabilityParamEncodeCCast = 131072;
inline constexpr std::uint8_t kTypeGcs = 6;
CommandLong calibrate_accelerometer(Target t, int mode);  // param5: 1 full, 2 level trim, 4 simple
CommandLong calibrate_gyro(Target t);
CommandLong reboot(Target t, int autopilot_action = 1);
// Whether an ACK answers this command, and what it said.
bool acknowledges(const CommandAck& ack, const CommandLong& command);

}  // namespace rig::mavlink
