// A classic CAN 2.0 frame, shared by the DroneCAN codec and the SLCAN line codec.
#pragma once
#include <cstdint>

#include "protocols/common/bytes.hpp"

namespace rig {

struct CanFrame {
    std::uint32_t id = 0;  // 11 or 29 bits
    bool extended = true;
    bool rtr = false;
    Bytes data;            // 0..8 bytes (an RTR frame carries its DLC in rtr_dlc)
    std::uint8_t rtr_dlc = 0;
    bool operator==(const CanFrame&) const = default;
};

inline constexpr std::uint32_t kCanStdMask = 0x7FF;
inline constexpr std::uint32_t kCanExtMask = 0x1FFFFFFF;

}  // namespace rig
