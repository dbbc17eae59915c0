// Typed MSP payloads (reference/protocols.md §2.8). Scales are applied here once:
// fields carry their unit in their name (vbat_v, current_a).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"
#include "protocols/msp/frame.hpp"

namespace rig::msp {

namespace cmd {
inline constexpr std::uint16_t api_version = 1;
inline constexpr std::uint16_t fc_variant = 2;
inline constexpr std::uint16_t fc_version = 3;
inline constexpr std::uint16_t board_info = 4;
inline constexpr std::uint16_t raw_imu = 102;
inline constexpr std::uint16_t motor = 104;
inline constexpr std::uint16_t analog = 110;
inline constexpr std::uint16_t motor_config = 131;
inline constexpr std::uint16_t motor_telemetry = 139;
inline constexpr std::uint16_t uid = 160;
inline constexpr std::uint16_t set_motor = 214;
}  // namespace cmd

struct ApiVersion {
    static constexpr std::uint16_t command = cmd::api_version;
    std::uint8_t protocol = 0;
    std::uint8_t major = 1;
    std::uint8_t minor = 0;
    Bytes encode() const;
    static Result<ApiVersion> decode(ByteView payload);
    bool operator==(const ApiVersion&) const = default;
};

struct FcVariant {
    static constexpr std::uint16_t command = cmd::fc_variant;
    std::string identifier;  // 4 characters: BTFL, INAV, ...
    Bytes encode() const;
    static Result<FcVariant> decode(ByteView payload);
    bool operator==(const FcVariant&) const = default;
};

struct FcVersion {
    static constexpr std::uint16_t command = cmd::fc_version;
    std::uint8_t year = 0;   // year - 2000 (4.x: major)
    std::uint8_t month = 0;  // (4.x: minor)
    std::uint8_t patch = 0;
    std::string full;        // absent before API 1.47: empty
    Bytes encode() const;
    static Result<FcVersion> decode(ByteView payload);
    std::string text() const;  // "2026.12.0-alpha", or "26.12.0" without the string
    bool operator==(const FcVersion&) const = default;
};

struct BoardInfo {
    static constexpr std::uint16_t command = cmd::board_info;
    std::string board_id;  // 4 characters
    std::uint16_t hardware_revision = 0;
    std::uint8_t board_type = 0;
    std::uint8_t capabilities = 0;
    std::string target_name;
    std::string board_name;
    std::string manufacturer_id;
    // Tail fields (API >= 1.42); absent on older firmware.
    std::uint8_t mcu_type = 254;
    std::uint8_t configuration_state = 0;
    std::uint16_t gyro_rate_hz = 0;
    std::uint32_t configuration_problems = 0;  // bit0: accelerometer needs calibration
    Bytes encode() const;
    static Result<BoardInfo> decode(ByteView payload);
    bool operator==(const BoardInfo&) const = default;
};

struct Uid {
    static constexpr std::uint16_t command = cmd::uid;
    std::array<std::uint32_t, 3> words{};
    Bytes encode() const;
    static Result<Uid> decode(ByteView payload);
    std::string hex() const;  // 24 hex digits, U_ID_0 first
    bool operator==(const Uid&) const = default;
};

struct Analog {
    static constexpr std::uint16_t command = cmd::analog;
    double vbat_v = 0;       // from the 0.01 V field (the legacy 0.1 V byte is written, not read)
    std::uint16_t mah_drawn = 0;
    std::uint16_t rssi = 0;  // 0..1023
    double current_a = 0;    // 0.01 A
    Bytes encode() const;
    static Result<Analog> decode(ByteView payload);
};

struct RawImu {
    static constexpr std::uint16_t command = cmd::raw_imu;
    // Raw sensor counts; the scale (acc_1G, gyro counts per dps) depends on the sensor and is
    // a parameter of the plan, not of the codec.
    std::array<std::int16_t, 3> acc{};
    std::array<std::int16_t, 3> gyro{};
    std::array<std::int16_t, 3> mag{};
    Bytes encode() const;
    static Result<RawImu> decode(ByteView payload);
    bool operator==(const RawImu&) const = default;
};

inline constexpr std::size_t kMaxMotors = 8;
inline constexpr std::uint16_t kMotorStop = 1000;  // PWM-equivalent units, 1000..2000
inline constexpr std::uint16_t kMotorMax = 2000;

struct Motor {
    static constexpr std::uint16_t command = cmd::motor;
    std::array<std::uint16_t, kMaxMotors> value{};
    Bytes encode() const;
    static Result<Motor> decode(ByteView payload);
    bool operator==(const Motor&) const = default;
};

// Always 8 values: Betaflight rejects fewer than motorCount (§2.8).
struct SetMotor {
    static constexpr std::uint16_t command = cmd::set_motor;
    std::array<std::uint16_t, kMaxMotors> value{};
    static SetMotor all_stopped();
    Bytes encode() const;
    static Result<SetMotor> decode(ByteView payload);
    bool operator==(const SetMotor&) const = default;
};

struct MotorTelemetryEntry {
    std::uint32_t rpm = 0;
    double invalid_pct = 0;  // wire: percent x100
    std::uint8_t temperature_c = 0;
    double voltage_v = 0;    // wire: 0.01 V
    double current_a = 0;    // wire: 0.01 A
    std::uint16_t consumption_mah = 0;
};

struct MotorTelemetry {
    static constexpr std::uint16_t command = cmd::motor_telemetry;
    std::vector<MotorTelemetryEntry> motors;
    Bytes encode() const;
    static Result<MotorTelemetry> decode(ByteView payload);
};

// MSP_MOTOR_CONFIG (131), Betaflight msp.c: u16 minthrottle (0 since 4.3), u16 maxthrottle,
// u16 mincommand, then (API 1.42+) u8 motor count, u8 motor poles, u8 use_dshot_telemetry,
// u8 esc_sensor feature. The last two say whether MOTOR_TELEMETRY carries anything real.
struct MotorConfig {
    static constexpr std::uint16_t command = cmd::motor_config;
    std::uint16_t min_throttle = 0, max_throttle = 2000, min_command = 1000;
    std::uint8_t motor_count = 0, motor_poles = 14;
    bool dshot_telemetry = false, esc_sensor = false;
    bool has_telemetry_fields = false;  // false: an older firmware that sent only the first 6 bytes
    bool telemetry_source() const { return dshot_telemetry || esc_sensor; }
    Bytes encode() const;
    static Result<MotorConfig> decode(ByteView payload);
    bool operator==(const MotorConfig&) const = default;
};

// "MSP_MOTOR_TELEMETRY (139)": errors name commands as the firmware source does.
std::string command_name(std::uint16_t command);

// Checks the frame's command and that it is not an error reply, then decodes the payload.
template <class T>
Result<T> decode(const Frame& frame) {
    if (frame.command != T::command)
        return make_error(Errc::protocol_error, "msp: expected command " + std::to_string(T::command) +
                                                    ", got " + std::to_string(frame.command));
    if (frame.dir == Direction::error)
        return make_error(Errc::protocol_error, "msp: error reply to command " + std::to_string(T::command));
    return T::decode(frame.payload);
}

template <class T>
Frame make_reply(const T& message, Version v = Version::v1) {
    return Frame{Direction::reply, T::command, message.encode(), v, 0};
}
inline Frame make_request(std::uint16_t command, Bytes payload = {}, Version v = Version::v1) {
    return Frame{Direction::request, command, std::move(payload), v, 0};
}

}  // namespace rig::msp
