// MSP status and telemetry replies (reference/protocols.md §2.8): STATUS / STATUS_EX,
// ATTITUDE, ALTITUDE, BATTERY_STATE, RC, VTX_CONFIG (and SET_VTX_CONFIG), SENSOR_ALIGNMENT.
#pragma once
#include <cstdint>
#include <vector>

#include "protocols/msp/messages.hpp"

namespace rig::msp {

namespace cmd {
inline constexpr std::uint16_t vtx_config = 88;
inline constexpr std::uint16_t set_vtx_config = 89;
inline constexpr std::uint16_t status = 101;
inline constexpr std::uint16_t rc = 105;
inline constexpr std::uint16_t attitude = 108;
inline constexpr std::uint16_t altitude = 109;
inline constexpr std::uint16_t sensor_alignment = 126;
inline constexpr std::uint16_t battery_state = 130;
inline constexpr std::uint16_t status_ex = 150;
}  // namespace cmd

namespace sensor {
inline constexpr std::uint16_t acc = 1 << 0, baro = 1 << 1, mag = 1 << 2, gps = 1 << 3, rangefinder = 1 << 4, gyro = 1 << 5, optical_flow = 1 << 6;
}
namespace arming {
inline constexpr std::uint32_t no_gyro = 1u << 0, failsafe = 1u << 1, rx_failsafe = 1u << 2, not_disarmed = 1u << 3, throttle = 1u << 7,
                               calibrating = 1u << 12, cli = 1u << 13, msp = 1u << 16, reboot_required = 1u << 21, acc_calibration = 1u << 23,
                               motor_protocol = 1u << 24;
}

// STATUS (101) and STATUS_EX (150) differ only at offset 13; one struct serves both.
template <std::uint16_t Command>
struct StatusT {
    static constexpr std::uint16_t command = Command;
    std::uint16_t cycle_time_us = 0, i2c_errors = 0, sensors = 0;
    std::uint32_t box_flags = 0;                 // first 32 active-box bits; bit 0 is normally ARM
    std::uint8_t pid_profile = 0;
    std::uint16_t system_load_pct = 0;
    std::uint8_t pid_profile_count = 0, rate_profile = 0;  // STATUS_EX only (STATUS sends u16 0)
    std::vector<std::uint8_t> extra_box_flags;   // box bits 32 upward
    std::uint8_t arming_disable_count = 0;
    std::uint32_t arming_disable_flags = 0;
    std::uint8_t config_state = 0;               // bit0: reboot required
    std::uint16_t cpu_temp_c = 0;
    std::uint8_t rate_profile_count = 0, battery_profile_count = 0, battery_profile = 0;  // API >= 1.48
    Bytes encode() const;
    static Result<StatusT> decode(ByteView payload);
    bool armed() const { return box_flags & 1u; }
    bool operator==(const StatusT&) const = default;
};
using Status = StatusT<cmd::status>;
using StatusEx = StatusT<cmd::status_ex>;

struct Attitude {
    static constexpr std::uint16_t command = cmd::attitude;
    double roll_deg = 0, pitch_deg = 0;  // wire 0.1 deg
    std::int16_t yaw_deg = 0;            // wire whole degrees
    Bytes encode() const;
    static Result<Attitude> decode(ByteView payload);
};

struct Altitude {
    static constexpr std::uint16_t command = cmd::altitude;
    std::int32_t altitude_cm = 0;
    std::int16_t vario_cm_s = 0;
    Bytes encode() const;
    static Result<Altitude> decode(ByteView payload);
    bool operator==(const Altitude&) const = default;
};

struct BatteryState {
    static constexpr std::uint16_t command = cmd::battery_state;
    enum class State : std::uint8_t { ok = 0, warning = 1, critical = 2, not_present = 3, init = 4 };
    std::uint8_t cell_count = 0;
    std::uint16_t capacity_mah = 0, mah_drawn = 0;
    double voltage_v = 0;  // 0.01 V field (the 0.1 V byte is written, not read)
    double current_a = 0;  // 0.01 A
    State state = State::ok;
    Bytes encode() const;
    static Result<BatteryState> decode(ByteView payload);
};

struct Rc {
    static constexpr std::uint16_t command = cmd::rc;
    std::vector<std::uint16_t> channels_us;
    Bytes encode() const;
    static Result<Rc> decode(ByteView payload);
    bool operator==(const Rc&) const = default;
};

struct VtxConfig {
    static constexpr std::uint16_t command = cmd::vtx_config;
    std::uint8_t device_type = 0xFF, band = 0, channel = 0, power_index = 0, pit_mode = 0;
    std::uint16_t frequency_mhz = 0;
    std::uint8_t device_ready = 0, low_power_disarm = 0;
    std::uint16_t pit_frequency_mhz = 0;
    std::uint8_t table_available = 0, table_bands = 0, table_channels = 0, table_power_levels = 0;
    Bytes encode() const;
    static Result<VtxConfig> decode(ByteView payload);
    bool operator==(const VtxConfig&) const = default;
};

// MSP_SET_VTX_CONFIG (89) request, Betaflight msp.c: u16 band/channel code ((band-1)*8 +
// channel-1, when <= 63) or a frequency in MHz, then u8 power index (1-based into the VTX
// table; 0 leaves it) and u8 pit mode. Every Betaflight since 3.x reads these 4 bytes; the
// longer API 1.42 forms (low-power-disarm, pit frequency, plain band/channel) are not sent.
struct SetVtxConfig {
    static constexpr std::uint16_t command = cmd::set_vtx_config;
    static constexpr std::uint16_t kMaxBandChannelCode = 63;  // VTXCOMMON_MSP_BANDCHAN_CHKVAL
    std::uint8_t band = 0, channel = 0;  // 1-based; band 0: frequency_mhz instead
    std::uint16_t frequency_mhz = 0;
    std::uint8_t power_index = 0, pit_mode = 0;
    Bytes encode() const;
    static Result<SetVtxConfig> decode(ByteView payload);
    bool operator==(const SetVtxConfig&) const = default;
};

struct SensorAlignment {
    static constexpr std::uint16_t command = cmd::sensor_alignment;
    std::uint8_t gyro = 0, acc = 0, mag = 0, detected_gyros = 0, gyro_enabled = 0;
    std::int16_t mag_roll_decideg = 0, mag_pitch_decideg = 0, mag_yaw_decideg = 0;
    Bytes encode() const;
    static Result<SensorAlignment> decode(ByteView payload);
    bool operator==(const SensorAlignment&) const = default;
};

extern template struct StatusT<cmd::status>;
extern template struct StatusT<cmd::status_ex>;

}  // namespace rig::msp
