// Checksums of reference/protocols.md §1.
#pragma once
#include <cstdint>

#include "protocols/common/bytes.hpp"

namespace rig::crc {

std::uint8_t xor8(ByteView data, std::uint8_t init = 0);
// CRC-8/DVB-S2: poly 0xD5, init 0, no reflection (MSP v2, CRSF).
std::uint8_t crc8_dvb_s2(ByteView data, std::uint8_t init = 0);
// CRC-8 poly 0xBA, init 0: the inner CRC of CRSF 0x32 command frames.
std::uint8_t crc8_ba(ByteView data, std::uint8_t init = 0);
// CRC-16/MCRF4XX: MAVLink's X.25 accumulate, init 0xFFFF, reflected.
std::uint16_t crc16_mcrf4xx(ByteView data, std::uint16_t init = 0xFFFF);
// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection (DroneCAN, rig's jig protocol).
std::uint16_t crc16_ccitt_false(ByteView data, std::uint16_t init = 0xFFFF);
// CRC-64/WE: DroneCAN data type signatures (computed offline; here to check constants).
std::uint64_t crc64_we(ByteView data);

}  // namespace rig::crc
