// DroneCAN data types the rig uses (reference/protocols.md §5.5–5.6): NodeStatus, GetNodeInfo,
// esc.RawCommand, esc.Status and equipment.power.BatteryInfo. Units in the names.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"
#include "protocols/dronecan/transport.hpp"

namespace rig::dronecan {

struct NodeStatus {
    static constexpr std::uint16_t id = 341;
    static constexpr std::uint64_t signature = 0x0F0868D0C1A7C6F1ULL;
    enum class Health : std::uint8_t { ok = 0, warning = 1, error = 2, critical = 3 };
    enum class Mode : std::uint8_t { operational = 0, initialization = 1, maintenance = 2, software_update = 3, offline = 7 };
    std::uint32_t uptime_s = 0;
    Health health = Health::ok;
    Mode mode = Mode::operational;
    std::uint8_t sub_mode = 0;
    std::uint16_t vendor_status = 0;
    Bytes encode() const;
    static Result<NodeStatus> decode(ByteView payload);
    bool operator==(const NodeStatus&) const = default;
};

struct GetNodeInfo {
    static constexpr std::uint16_t id = 1;
    static constexpr std::uint64_t signature = 0xEE468A8121C46A9EULL;
    // The request is empty.
    struct Response {
        NodeStatus status;
        std::uint8_t sw_major = 0, sw_minor = 0, sw_flags = 0;  // flags: bit0 vcs_commit valid, bit1 image_crc valid
        std::uint32_t vcs_commit = 0;
        std::uint64_t image_crc = 0;
        std::uint8_t hw_major = 0, hw_minor = 0;
        std::array<std::uint8_t, 16> unique_id{};
        Bytes certificate;  // <= 255 bytes, length-prefixed
        std::string name;   // TAO: runs to the end of the payload
        Bytes encode() const;
        static Result<Response> decode(ByteView payload);
        bool operator==(const Response&) const = default;
    };
};

struct EscRawCommand {
    static constexpr std::uint16_t id = 1030;
    static constexpr std::uint64_t signature = 0x217F5C87D7EC951DULL;
    static constexpr std::int16_t kMax = 8191, kMin = -8192;
    std::vector<std::int16_t> cmd;  // <= 20, each -8192..8191; 0 = stop
    Bytes encode() const;           // values outside the range are clamped
    static Result<EscRawCommand> decode(ByteView payload);
    bool operator==(const EscRawCommand&) const = default;
};

struct EscStatus {
    static constexpr std::uint16_t id = 1034;
    static constexpr std::uint64_t signature = 0xA9AF28AEA2FBB254ULL;
    std::uint32_t error_count = 0;
    float voltage_v = 0, current_a = 0, temperature_k = 0;  // float16 on the wire; NaN = unknown
    std::int32_t rpm = 0;                                    // int18
    std::uint8_t power_rating_pct = 0;                       // uint7
    std::uint8_t esc_index = 0;                              // uint5
    Bytes encode() const;
    static Result<EscStatus> decode(ByteView payload);
    bool operator==(const EscStatus&) const = default;
};

struct BatteryInfo {
    static constexpr std::uint16_t id = 1092;
    static constexpr std::uint64_t signature = 0x249C26548A711966ULL;
    float temperature_k = 0, voltage_v = 0, current_a = 0, average_power_10s_w = 0, remaining_capacity_wh = 0,
          full_charge_capacity_wh = 0, hours_to_full_charge = 0;
    std::uint16_t status_flags = 0;  // uint11
    std::uint8_t state_of_health_pct = 127, state_of_charge_pct = 0, state_of_charge_pct_stdev = 0;  // uint7
    std::uint8_t battery_id = 0;
    std::uint32_t model_instance_id = 0;
    std::string model_name;  // < 32, TAO
    Bytes encode() const;
    static Result<BatteryInfo> decode(ByteView payload);
    bool operator==(const BatteryInfo&) const = default;
};

// The signature lookup for a Reassembler that accepts exactly the types above.
std::optional<std::uint64_t> known_signature(Kind kind, std::uint16_t data_type_id);

}  // namespace rig::dronecan
