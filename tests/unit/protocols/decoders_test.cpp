// Regression tests for typed decoders that once read an empty optional on short payloads: each
// of these exact payloads must give a "payload truncated" error, never a value or a crash.
#include <doctest/doctest.h>

#include <cmath>
#include <fmt/format.h>

#include "hex.hpp"
#include "protocols/common/bits.hpp"
#include "protocols/common/float16.hpp"
#include "protocols/crsf/crsf.hpp"
#include "protocols/dronecan/messages.hpp"
#include "protocols/msp/commands.hpp"
#include "protocols/msp/frame.hpp"
#include "protocols/msp/telemetry.hpp"

using namespace rig;

namespace {
template <class R>
void expect_truncated(const R& r, const std::string& message) {
    REQUIRE_FALSE(r);
    CHECK(r.error().message == message);
}
}  // namespace

TEST_CASE("msp BUILD_INFO of 7 bytes, from a whole frame, is truncated") {
    msp::Parser parser(512);
    auto frames = parser.feed(hex("24 4D 3E 07 05 61 62 63 64 65 66 67 62"));
    REQUIRE(frames.size() == 1);
    expect_truncated(msp::BuildInfo::decode(frames[0].payload), "msp: BUILD_INFO payload truncated (7 bytes)");
    expect_truncated(msp::BuildInfo::decode(Bytes(18, std::byte{'a'})), "msp: BUILD_INFO payload truncated (18 bytes)");
    CHECK(msp::BuildInfo::decode(Bytes(26, std::byte{'a'})));
}

TEST_CASE("msp BATTERY_STATE of 5 or 7 bytes is truncated") {
    expect_truncated(msp::BatteryState::decode(hex("04 10 0E 7D 00")), "msp: BATTERY_STATE payload truncated (5 bytes)");
    expect_truncated(msp::BatteryState::decode(hex("04 10 0E 7D 00 01 02")), "msp: BATTERY_STATE payload truncated (7 bytes)");
    CHECK(msp::BatteryState::decode(hex("04 10 0E 7D 00 01 02 00 00")));
}

TEST_CASE("crsf DEVICE_INFO with a name but short numbers is truncated") {
    expect_truncated(crsf::DeviceInfo::decode(hex("00 19 00")), "crsf: DEVICE_INFO payload truncated (3 bytes)");
    for (std::size_t tail : {2u, 6u, 7u, 10u, 11u}) {
        Bytes p = hex("41 00");
        p.resize(2 + tail, std::byte{0x19});
        CAPTURE(tail);
        expect_truncated(crsf::DeviceInfo::decode(p), fmt::format("crsf: DEVICE_INFO payload truncated ({} bytes)", p.size()));
    }
    Bytes full = hex("41 00");
    full.resize(2 + 14, std::byte{0});
    CHECK(crsf::DeviceInfo::decode(full));
}

TEST_CASE("dronecan GetNodeInfo response of 13 and 17..39 bytes is truncated, not a crash") {
    expect_truncated(dronecan::GetNodeInfo::Response::decode(Bytes(13, std::byte{0})), "dronecan: GetNodeInfo response payload truncated (13 bytes)");
    for (std::size_t n : {17u, 18u, 19u, 20u, 21u, 25u, 30u, 39u}) {
        CAPTURE(n);
        auto r = dronecan::GetNodeInfo::Response::decode(Bytes(n, std::byte{0}));
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("payload truncated") != std::string::npos);
    }
    CHECK(dronecan::GetNodeInfo::Response::decode(Bytes(41, std::byte{0})));
}

TEST_CASE("dronecan esc.Status one byte short is truncated") {
    expect_truncated(dronecan::EscStatus::decode(hex("07 00 00 00 20 4E 00 BE E4 5C 48 F4 F2")), "dronecan: esc.Status payload truncated (13 bytes)");
    CHECK(dronecan::EscStatus::decode(hex("07 00 00 00 20 4E 00 BE E4 5C 48 F4 F2 00")));
}

TEST_CASE("a failed read leaves byte and bit readers failed") {
    const Bytes three = hex("01 02 03");
    ByteReader r(three);
    CHECK_FALSE(r.u32le());
    CHECK(r.failed());
    CHECK_FALSE(r.u8());  // would have succeeded on a fresh reader
    CHECK(r.remaining() == 0);
    BitReader b(three);
    CHECK_FALSE(b.get(25));
    CHECK_FALSE(b.get(1));
    CHECK(b.remaining_bits() == 0);
}

TEST_CASE("float16 rounds values between 2^-25 and 2^-24 up to the smallest subnormal") {
    CHECK(f16::from_float(4.0e-8f) == 0x0001);
    CHECK(f16::from_float(-4.0e-8f) == 0x8001);
    CHECK(f16::from_float(std::ldexp(1.0f, -25)) == 0x0000);  // the tie goes to even
    CHECK(f16::from_float(std::nextafter(std::ldexp(1.0f, -25), 1.0f)) == 0x0001);
    CHECK(f16::from_float(std::ldexp(1.0f, -26)) == 0x0000);
    CHECK(f16::from_float(std::ldexp(1.0f, -24)) == 0x0001);
}
