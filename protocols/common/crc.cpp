#include "protocols/common/crc.hpp"

#include <array>

namespace rig::crc {
namespace {

constexpr std::array<std::uint8_t, 256> make_crc8_table(std::uint8_t poly) {
    std::array<std::uint8_t, 256> t{};
    for (int i = 0; i < 256; ++i) {
        auto c = static_cast<std::uint8_t>(i);
        for (int b = 0; b < 8; ++b) c = (c & 0x80) ? static_cast<std::uint8_t>((c << 1) ^ poly) : static_cast<std::uint8_t>(c << 1);
        t[i] = c;
    }
    return t;
}

constexpr std::array<std::uint16_t, 256> make_ccitt_table() {
    std::array<std::uint16_t, 256> t{};
    for (int i = 0; i < 256; ++i) {
        auto c = static_cast<std::uint16_t>(i << 8);
        for (int b = 0; b < 8; ++b) c = (c & 0x8000) ? static_cast<std::uint16_t>((c << 1) ^ 0x1021) : static_cast<std::uint16_t>(c << 1);
        t[i] = c;
    }
    return t;
}

constexpr auto kCrc8D5 = make_crc8_table(0xD5);
constexpr auto kCrc8BA = make_crc8_table(0xBA);
constexpr auto kCcitt = make_ccitt_table();

// CRC-16/MCRF4XX (X.25 without the final xor): reflected polynomial 0x8408, one table lookup a
// byte instead of the bitwise form's dependent shifts (MAVLink parses at line rate many times).
constexpr std::array<std::uint16_t, 256> make_x25_table() {
    std::array<std::uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        std::uint16_t c = static_cast<std::uint16_t>(i);
        for (int b = 0; b < 8; ++b) c = static_cast<std::uint16_t>((c & 1) ? (c >> 1) ^ 0x8408 : c >> 1);
        t[i] = c;
    }
    return t;
}
constexpr auto kX25 = make_x25_table();

// Slicing-by-8 (Kounavis & Berry): kX25Slices[k][b] is the register contribution of byte b
// followed by k zero bytes, so eight bytes fold into the register with eight independent
// lookups instead of a chain of eight dependent ones.
constexpr std::array<std::array<std::uint16_t, 256>, 8> make_x25_slices() {
    std::array<std::array<std::uint16_t, 256>, 8> t{};
    t[0] = kX25;
    for (std::size_t k = 1; k < 8; ++k)
        for (std::size_t i = 0; i < 256; ++i) t[k][i] = static_cast<std::uint16_t>((t[k - 1][i] >> 8) ^ kX25[t[k - 1][i] & 0xFF]);
    return t;
}
constexpr auto kX25Slices = make_x25_slices();

}  // namespace

std::uint8_t xor8(ByteView data, std::uint8_t init) {
    for (auto b : data) init ^= std::to_integer<std::uint8_t>(b);
    return init;
}

std::uint8_t crc8_dvb_s2(ByteView data, std::uint8_t crc) {
    for (auto b : data) crc = kCrc8D5[crc ^ std::to_integer<std::uint8_t>(b)];
    return crc;
}

std::uint8_t crc8_ba(ByteView data, std::uint8_t crc) {
    for (auto b : data) crc = kCrc8BA[crc ^ std::to_integer<std::uint8_t>(b)];
    return crc;
}

std::uint64_t crc64_we(ByteView data) {
    std::uint64_t crc = ~std::uint64_t{0};
    for (auto b : data) {
        crc ^= static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(b)) << 56;
        for (int i = 0; i < 8; ++i) crc = (crc & (std::uint64_t{1} << 63)) ? (crc << 1) ^ 0x42F0E1EBA9EA3693ULL : crc << 1;
    }
    return ~crc;
}

std::uint16_t crc16_mcrf4xx(ByteView data, std::uint16_t crc) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(data.data());
    std::size_t n = data.size();
    const auto& t = kX25Slices;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t w = 0;
        for (int i = 7; i >= 0; --i) w = (w << 8) | p[i];  // little-endian load, any alignment
        w ^= crc;
        crc = static_cast<std::uint16_t>(t[7][w & 0xFF] ^ t[6][(w >> 8) & 0xFF] ^ t[5][(w >> 16) & 0xFF] ^ t[4][(w >> 24) & 0xFF] ^
                                         t[3][(w >> 32) & 0xFF] ^ t[2][(w >> 40) & 0xFF] ^ t[1][(w >> 48) & 0xFF] ^ t[0][w >> 56]);
    }
    for (auto b : ByteView(reinterpret_cast<const std::byte*>(p), n)) crc = static_cast<std::uint16_t>((crc >> 8) ^ kX25[(crc ^ std::to_integer<std::uint8_t>(b)) & 0xFF]);
    return crc;
}

std::uint16_t crc16_ccitt_false(ByteView data, std::uint16_t crc) {
    for (auto b : data)
        crc = static_cast<std::uint16_t>((crc << 8) ^ kCcitt[((crc >> 8) ^ std::to_integer<std::uint8_t>(b)) & 0xFF]);
    return crc;
}

}  // namespace rig::crc
