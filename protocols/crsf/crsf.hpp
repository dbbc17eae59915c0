// CRSF (Crossfire / ExpressLRS) frames and payloads (reference/protocols.md §4), sans-IO.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"

namespace rig::crsf {

inline constexpr std::uint8_t kSync = 0xC8;
inline constexpr std::size_t kMaxFrame = 64;

namespace addr {
inline constexpr std::uint8_t broadcast = 0x00, flight_controller = 0xC8, handset = 0xEA, receiver = 0xEC, tx_module = 0xEE;
}
namespace type {
inline constexpr std::uint8_t battery_sensor = 0x08, link_statistics = 0x14, rc_channels_packed = 0x16, attitude = 0x1E,
                              device_ping = 0x28, device_info = 0x29, parameter_entry = 0x2B, parameter_read = 0x2C,
                              parameter_write = 0x2D, command = 0x32;
}
inline bool is_extended(std::uint8_t t) { return t >= 0x28 && t <= 0x96; }

struct Frame {
    std::uint8_t address = kSync;  // sync / destination byte
    std::uint8_t type = 0;
    // Extended frames (0x28..0x96) carry destination and origin before the payload.
    std::uint8_t dest = 0, origin = 0;
    Bytes payload;
    bool operator==(const Frame&) const = default;
};

Bytes encode(const Frame& f);

struct DropCounters {
    std::uint64_t garbage_bytes = 0, bad_crc = 0, bad_length = 0;
};

class Parser {
public:
    // Accepts frames starting with the serial sync 0xC8, broadcast 0x00 or a device address of
    // §4.3 (0xEA, 0xEC, 0xEE...). An address byte followed by a plausible length waits for that
    // many bytes: on a live link the next frames supply them and the CRC decides.
    std::vector<Frame> feed(ByteView bytes);
    const DropCounters& dropped() const noexcept { return dropped_; }

private:
    Bytes buf_;
    DropCounters dropped_;
};

// 0x16: 16 channels of 11 bits, ticks 172..1811 (992 centre).
struct RcChannels {
    std::array<std::uint16_t, 16> ticks{};
    Bytes encode() const;
    static Result<RcChannels> decode(ByteView payload);
    bool operator==(const RcChannels&) const = default;
};
double ticks_to_us(std::uint16_t ticks);  // TBS formula: (t - 992) * 5/8 + 1500
std::uint16_t us_to_ticks(double us);

struct LinkStatistics {
    std::uint8_t uplink_rssi1_neg_dbm = 0, uplink_rssi2_neg_dbm = 0, uplink_lq_pct = 0;
    std::int8_t uplink_snr_db = 0;
    std::uint8_t active_antenna = 0, rf_mode = 0, uplink_tx_power = 0;
    std::uint8_t downlink_rssi_neg_dbm = 0, downlink_lq_pct = 0;
    std::int8_t downlink_snr_db = 0;
    Bytes encode() const;
    static Result<LinkStatistics> decode(ByteView payload);
    int uplink_tx_power_mw() const;  // from the power enum; -1 if unknown
    bool operator==(const LinkStatistics&) const = default;
};

struct BatterySensor {
    double voltage_v = 0;   // wire 0.1 V (Betaflight/ELRS scaling, not the TBS text)
    double current_a = 0;   // wire 0.1 A
    std::uint32_t capacity_mah = 0;  // u24
    std::uint8_t remaining_pct = 0;
    Bytes encode() const;
    static Result<BatterySensor> decode(ByteView payload);
};

struct DeviceInfo {
    std::string name;
    std::uint32_t serial = 0, hardware_id = 0, firmware_id = 0;
    std::uint8_t parameter_count = 0, parameter_version = 0;
    Bytes encode() const;
    static Result<DeviceInfo> decode(ByteView payload);
    bool operator==(const DeviceInfo&) const = default;
};

struct ParameterRead {
    std::uint8_t number = 0, chunk = 0;
    Bytes encode() const { return ByteWriter().u8(number).u8(chunk).take(); }
    static Result<ParameterRead> decode(ByteView payload);
};

struct ParameterEntryChunk {
    std::uint8_t number = 0, chunks_remaining = 0;
    Bytes data;  // up to 56 bytes of the entry
    Bytes encode() const { return ByteWriter().u8(number).u8(chunks_remaining).bytes(data).take(); }
    static Result<ParameterEntryChunk> decode(ByteView payload);
};

// A parameter entry once its chunks are joined (ELRS configuration menus).
struct ParameterEntry {
    enum class Type : std::uint8_t { uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float_ = 8, text_selection = 9,
                                      string = 10, folder = 11, info = 12, command = 13, out_of_range = 127 };
    std::uint8_t parent = 0;
    Type type = Type::info;
    bool hidden = false;
    std::string name;
    // text_selection
    std::vector<std::string> options;
    std::uint8_t value = 0, min = 0, max = 0, default_value = 0;
    std::string unit;
    // float
    std::int32_t fvalue = 0, fmin = 0, fmax = 0, fdefault = 0, step = 0;
    std::uint8_t decimal_point = 0;
    // string / info
    std::string text;
    // folder
    std::vector<std::uint8_t> children;
    // command
    std::uint8_t status = 0, timeout_100ms = 0;
    static Result<ParameterEntry> decode(ByteView data);
};

struct ParameterWrite {
    std::uint8_t number = 0;
    Bytes value;  // 1 byte (selection index / command status) or an int32 BE (float)
    Bytes encode() const { return ByteWriter().u8(number).bytes(value).take(); }
    static Result<ParameterWrite> decode(ByteView payload);
};

// 0x32 command frames carry an inner CRC-8 (poly 0xBA) over type, dest, origin, id and payload.
Frame make_command(std::uint8_t dest, std::uint8_t origin, std::uint8_t command_id, ByteView payload);
Frame make_ping(std::uint8_t dest, std::uint8_t origin);

}  // namespace rig::crsf
