#include <doctest/doctest.h>

#include "hex.hpp"
#include "protocols/common/cobs.hpp"
#include "protocols/common/crc.hpp"

using namespace rig;

TEST_CASE("crc check values over 123456789 match the catalogue") {
    const std::string check = "123456789";
    CHECK(crc::crc8_dvb_s2(as_bytes(check)) == 0xBC);
    CHECK(crc::crc16_mcrf4xx(as_bytes(check)) == 0x6F91);
    CHECK(crc::crc16_ccitt_false(as_bytes(check)) == 0x29B1);
}

TEST_CASE("crc accumulates across chunks like over one buffer") {
    const std::string a = "1234", b = "56789";
    CHECK(crc::crc16_ccitt_false(as_bytes(b), crc::crc16_ccitt_false(as_bytes(a))) == 0x29B1);
    CHECK(crc::crc8_dvb_s2(as_bytes(b), crc::crc8_dvb_s2(as_bytes(a))) == 0xBC);
}

TEST_CASE("crc16_mcrf4xx (sliced by 8) equals the bitwise definition for every length and split") {
    // The bitwise X.25 accumulate of the MAVLink reference (crc_accumulate), byte by byte.
    auto bitwise = [](ByteView v, std::uint16_t crc) {
        for (auto b : v) {
            std::uint8_t tmp = std::to_integer<std::uint8_t>(b) ^ static_cast<std::uint8_t>(crc & 0xFF);
            tmp ^= static_cast<std::uint8_t>(tmp << 4);
            crc = static_cast<std::uint16_t>((crc >> 8) ^ (tmp << 8) ^ (tmp << 3) ^ (tmp >> 4));
        }
        return crc;
    };
    Bytes data(67);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::byte(static_cast<std::uint8_t>(i * 37 + 11));
    for (std::size_t len = 0; len <= data.size(); ++len)
        for (std::size_t cut = 0; cut <= len; cut += 3) {
            const ByteView all = ByteView(data).first(len);
            const auto expect = bitwise(all, 0xFFFF);
            CHECK(crc::crc16_mcrf4xx(all) == expect);
            CHECK(crc::crc16_mcrf4xx(all.subspan(cut), crc::crc16_mcrf4xx(all.first(cut))) == expect);
        }
}

TEST_CASE("cobs encodes the classic vectors") {
    CHECK(to_hex(cobs::encode(hex("00"))) == "01 01");
    CHECK(to_hex(cobs::encode(hex("00 00"))) == "01 01 01");
    CHECK(to_hex(cobs::encode(hex("11 22 00 33"))) == "03 11 22 02 33");
    CHECK(to_hex(cobs::encode(hex("11 22 33 44"))) == "05 11 22 33 44");
    CHECK(to_hex(cobs::encode(hex("11 00 00 00"))) == "02 11 01 01 01");
    CHECK(to_hex(cobs::encode({})) == "01");
}

TEST_CASE("cobs handles 254-byte runs without a spurious block") {
    Bytes run;
    for (int i = 1; i <= 254; ++i) run.push_back(static_cast<std::byte>(i));
    auto enc = cobs::encode(run);
    CHECK(enc.size() == 255);
    CHECK(enc[0] == std::byte{0xFF});
    Bytes longer = run;
    longer.push_back(std::byte{0xFF});
    auto enc2 = cobs::encode(longer);
    CHECK(enc2.size() == 257);
    CHECK(enc2[255] == std::byte{0x02});
    CHECK(*cobs::decode(enc) == run);
    CHECK(*cobs::decode(enc2) == longer);
}

TEST_CASE("cobs round-trips every length up to 600 with zeros sprinkled in") {
    for (std::size_t n = 0; n < 600; ++n) {
        Bytes data(n);
        for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::byte>((i * 7) % 13 == 0 ? 0 : (i % 251) + 1);
        auto enc = cobs::encode(data);
        for (auto b : enc) REQUIRE(b != std::byte{0});
        auto dec = cobs::decode(enc);
        REQUIRE(dec);
        REQUIRE(*dec == data);
    }
}

TEST_CASE("cobs decode rejects a zero inside and a code byte running past the end") {
    CHECK_FALSE(cobs::decode(hex("03 11 00")));
    CHECK_FALSE(cobs::decode(hex("05 11 22")));
}
