#include "protocols/common/float16.hpp"

#include <bit>
#include <cmath>

namespace rig::f16 {

std::uint16_t from_float(float value) {
    if (std::isnan(value)) return 0x7E00;
    const std::uint32_t f = std::bit_cast<std::uint32_t>(value);
    const std::uint16_t sign = static_cast<std::uint16_t>((f >> 16) & 0x8000);
    if (std::isinf(value)) return sign | 0x7C00;
    const float mag = std::fabs(value);
    if (mag >= 65520.0f) return sign | 0x7BFF;  // saturate: the spec keeps finite values finite
    const int exp = static_cast<int>((f >> 23) & 0xFF) - 127;
    std::uint32_t mant = f & 0x7FFFFF;
    // Below 2^-25 (half the smallest subnormal, 2^-24) rounds to zero; from 2^-25 up the
    // subnormal path rounds: exactly 2^-25 is a tie and goes to even (0), anything above to 1.
    if (exp < -25) return sign;
    if (exp < -14) {
        // Subnormal: shift the implicit 1 in, round to nearest even.
        mant |= 0x800000;
        const int shift = -exp - 14 + 13;
        std::uint32_t half = mant >> shift;
        const std::uint32_t rem = mant & ((1u << shift) - 1);
        const std::uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) ++half;
        return sign | static_cast<std::uint16_t>(half);
    }
    std::uint32_t h = (static_cast<std::uint32_t>(exp + 15) << 10) | (mant >> 13);
    const std::uint32_t rem = mant & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;  // may carry into the exponent: correct
    if (h >= 0x7C00) h = 0x7BFF;
    return sign | static_cast<std::uint16_t>(h);
}

float to_float(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000) << 16;
    const int exp = (h >> 10) & 0x1F;
    const std::uint32_t mant = h & 0x3FF;
    if (exp == 0x1F) return std::bit_cast<float>(sign | 0x7F800000 | (mant << 13));
    if (exp == 0) {
        const float v = std::ldexp(static_cast<float>(mant), -24);
        return sign ? -v : v;
    }
    return std::bit_cast<float>(sign | (static_cast<std::uint32_t>(exp - 15 + 127) << 23) | (mant << 13));
}

}  // namespace rig::f16
