#include <doctest/doctest.h>

#include <cmath>

#include "hex.hpp"
#include "protocols/common/bits.hpp"
#include "protocols/common/crc.hpp"
#include "protocols/common/float16.hpp"
#include "protocols/common/sha256.hpp"

using namespace rig;

TEST_CASE("crc-8 poly 0xBA and crc-64/WE match the catalogue check values") {
    const std::string check = "123456789";
    CHECK(crc::crc8_ba(as_bytes(check)) == 0x20);
    CHECK(crc::crc64_we(as_bytes(check)) == 0x62EC59E3F1A4F00AULL);
}

TEST_CASE("sha-256 matches FIPS 180-4 examples") {
    auto hexs = [](const std::array<std::uint8_t, 32>& d) {
        std::string s;
        char b[3];
        for (auto x : d) {
            std::snprintf(b, sizeof b, "%02x", x);
            s += b;
        }
        return s;
    };
    CHECK(hexs(sha256(as_bytes(std::string("abc")))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hexs(sha256(as_bytes(std::string("")))) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(hexs(sha256(as_bytes(std::string("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    Sha256 chunked;
    const std::string million(1000, 'a');
    for (int i = 0; i < 1000; ++i) chunked.update(as_bytes(million));
    CHECK(hexs(chunked.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("float16 encodes the reference values exactly") {
    CHECK(f16::from_float(16.0f) == 0x4C00);
    CHECK(f16::from_float(2.5f) == 0x4100);
    CHECK(f16::from_float(300.0f) == 0x5CB0);
    CHECK(f16::from_float(1.0f) == 0x3C00);
    CHECK(f16::from_float(NAN) == 0x7E00);
    CHECK(f16::from_float(INFINITY) == 0x7C00);
    CHECK(f16::from_float(-INFINITY) == 0xFC00);
    CHECK(f16::from_float(65504.0f) == 0x7BFF);
    CHECK(f16::from_float(1e9f) == 0x7BFF);     // saturates, stays finite
    CHECK(f16::from_float(-1e9f) == 0xFBFF);
    CHECK(f16::from_float(5.9604645e-8f) == 0x0001);  // smallest subnormal
    CHECK(f16::to_float(0x5CB0) == 300.0f);
    CHECK(std::isnan(f16::to_float(0x7E00)));
    CHECK(f16::to_float(0x0001) == doctest::Approx(5.9604645e-8));
    for (std::uint32_t h = 0; h < 0x10000; ++h) {
        if (((h >> 10) & 0x1F) == 0x1F && (h & 0x3FF)) continue;  // NaN payloads
        REQUIRE(f16::from_float(f16::to_float(static_cast<std::uint16_t>(h))) == h);
    }
}

TEST_CASE("bit writer reproduces the DroneCAN specification example") {
    BitWriter w;
    w.put(0xBEDA, 12).put_signed(-1, 3).put_signed(-5, 4).put_signed(-1, 2).put(0x88, 4);
    CHECK(to_hex(w.take()) == "DA EF 7C 00");
    const auto packed = hex("DA EF 7C 00");
    BitReader r(packed);
    CHECK(*r.get(12) == 0xEDA);  // 0xBEDA cut to 12 bits
    CHECK(*r.get_signed(3) == -1);
    CHECK(*r.get_signed(4) == -5);
    CHECK(*r.get_signed(2) == -1);
    CHECK(*r.get(4) == 0x8);
    CHECK_FALSE(r.get(8));  // only 7 bits remain
}

TEST_CASE("byte readers never read past the end") {
    const auto three = hex("01 02 03");
    ByteReader r(three);
    CHECK(*r.u16be() == 0x0102);
    CHECK_FALSE(r.u16le());
    CHECK_FALSE(r.u8());  // sticky: the failed read above fails every later one
    ByteReader q(three);
    CHECK(*q.u16be() == 0x0102);
    CHECK(*q.u8() == 3);
    CHECK_FALSE(q.u8());
    const auto ab = hex("41 42");
    ByteReader s(ab);
    CHECK_FALSE(s.cstring());  // no NUL
}
