// DroneCAN bit-level serialisation (reference/protocols.md §5.4): fields are packed MSB-first
// within bytes, multi-byte values little-endian, the final partial byte's low bits only.
#pragma once
#include <cstdint>
#include <optional>

#include "protocols/common/bytes.hpp"

namespace rig {

class BitWriter {
public:
    // Writes the low `bits` bits of value (1..64).
    BitWriter& put(std::uint64_t value, unsigned bits);
    BitWriter& put_signed(std::int64_t value, unsigned bits) { return put(static_cast<std::uint64_t>(value), bits); }
    std::size_t bit_length() const { return bit_len_; }
    Bytes take();  // zero-padded to a byte boundary

private:
    void put_bits_msb_first(std::uint8_t byte, unsigned count);  // the top `count` bits of byte
    Bytes out_;
    std::size_t bit_len_ = 0;
};

class BitReader {
public:
    explicit BitReader(ByteView data) : data_(data) {}
    std::optional<std::uint64_t> get(unsigned bits);
    std::optional<std::int64_t> get_signed(unsigned bits);
    // A failed read is sticky, as in ByteReader: later reads fail too.
    std::size_t remaining_bits() const { return failed_ ? 0 : data_.size() * 8 - pos_; }
    bool failed() const { return failed_; }

private:
    std::optional<std::uint8_t> get_bits_msb_first(unsigned count);
    ByteView data_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

}  // namespace rig
