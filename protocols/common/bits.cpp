#include "protocols/common/bits.hpp"

namespace rig {

void BitWriter::put_bits_msb_first(std::uint8_t byte, unsigned count) {
    for (unsigned i = 0; i < count; ++i) {
        const bool bit = (byte >> (7 - i)) & 1;
        if (bit_len_ % 8 == 0) out_.push_back(std::byte{0});
        if (bit) out_.back() |= static_cast<std::byte>(0x80 >> (bit_len_ % 8));
        ++bit_len_;
    }
}

BitWriter& BitWriter::put(std::uint64_t value, unsigned bits) {
    // Bytes least-significant first; each full byte MSB first; the last partial byte's
    // low (bits % 8) bits, MSB first.
    unsigned left = bits;
    while (left >= 8) {
        put_bits_msb_first(static_cast<std::uint8_t>(value & 0xFF), 8);
        value >>= 8;
        left -= 8;
    }
    if (left) put_bits_msb_first(static_cast<std::uint8_t>((value & ((1u << left) - 1)) << (8 - left)), left);
    return *this;
}

Bytes BitWriter::take() {
    bit_len_ = 0;
    return std::move(out_);
}

std::optional<std::uint8_t> BitReader::get_bits_msb_first(unsigned count) {
    if (remaining_bits() < count) return std::nullopt;
    std::uint8_t v = 0;
    for (unsigned i = 0; i < count; ++i) {
        const bool bit = (std::to_integer<std::uint8_t>(data_[pos_ / 8]) >> (7 - pos_ % 8)) & 1;
        v = static_cast<std::uint8_t>((v << 1) | bit);
        ++pos_;
    }
    return v;
}

std::optional<std::uint64_t> BitReader::get(unsigned bits) {
    // All or nothing: a field that does not fit fails whole and leaves the reader failed.
    if (remaining_bits() < bits) {
        failed_ = true;
        return std::nullopt;
    }
    std::uint64_t v = 0;
    unsigned shift = 0, left = bits;
    while (left >= 8) {
        auto b = get_bits_msb_first(8);
        if (!b) return std::nullopt;
        v |= std::uint64_t{*b} << shift;
        shift += 8;
        left -= 8;
    }
    if (left) {
        auto b = get_bits_msb_first(left);
        if (!b) return std::nullopt;
        v |= std::uint64_t{*b} << shift;
    }
    return v;
}

std::optional<std::int64_t> BitReader::get_signed(unsigned bits) {
    auto v = get(bits);
    if (!v) return std::nullopt;
    if (bits < 64 && (*v >> (bits - 1)) & 1) return static_cast<std::int64_t>(*v | (~std::uint64_t{0} << bits));
    return static_cast<std::int64_t>(*v);
}

}  // namespace rig
