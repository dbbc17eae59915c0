// SHA-256 (FIPS 180-4), for MAVLink 2 message signing. protocols/ links no crypto library.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/common/bytes.hpp"

namespace rig {

class Sha256 {
public:
    Sha256();
    Sha256& update(ByteView data);
    std::array<std::uint8_t, 32> finish();

private:
    void block(const std::uint8_t* p);
    std::array<std::uint32_t, 8> h_;
    std::array<std::uint8_t, 64> buf_{};
    std::size_t buf_len_ = 0;
    std::uint64_t total_ = 0;
};

std::array<std::uint8_t, 32> sha256(ByteView data);

// Lowercase hex of any bytes, and the hex sha256 of text.
std::string hex_string(ByteView data);
std::string sha256_hex(std::string_view text);

}  // namespace rig
