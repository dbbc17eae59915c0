// IEEE-754 binary16 (DroneCAN float16): round-to-nearest-even, saturating finite values
// to +-65504 but keeping infinities and NaN.
#pragma once
#include <cstdint>

namespace rig::f16 {
std::uint16_t from_float(float value);
float to_float(std::uint16_t bits);
}  // namespace rig::f16
