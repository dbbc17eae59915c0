// Consistent Overhead Byte Stuffing: a frame body with no zero bytes, so 0x00 delimits frames.
#pragma once
#include <optional>

#include "protocols/common/bytes.hpp"

namespace rig::cobs {

// Encoded bytes, without the trailing 0x00 delimiter.
Bytes encode(ByteView data);
// nullopt when the input holds a zero or a code byte runs past the end.
std::optional<Bytes> decode(ByteView data);

}  // namespace rig::cobs
