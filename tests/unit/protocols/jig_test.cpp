#include <doctest/doctest.h>

#include "hex.hpp"
#include "protocols/common/crc.hpp"
#include "protocols/jig/jig.hpp"

using namespace rig;
using namespace rig::jig;

TEST_CASE("jig golden frame: HEARTBEAT request seq 7") {
    // Body 01 01 07 01, CRC-16/CCITT-FALSE over it, little-endian, then COBS and a 0x00.
    const auto crc = crc::crc16_ccitt_false(hex("01 01 07 01"));
    CHECK(crc == 0x4CF2);  // cross-checked with an independent bitwise implementation
    CHECK(to_hex(encode(Frame{Kind::request, 7, Command::heartbeat, {}})) == "07 01 01 07 01 F2 4C 00");
}

TEST_CASE("jig golden frame: STATUS_CHANGED event seq 0, lid closed and DUT present") {
    // Body 01 41 00 12 06, CRC 0xA6A2 (computed with an independent bitwise CRC and COBS).
    const auto bytes = encode(Frame{Kind::event, 0, Command::read_lid, {std::byte{0x06}}});
    CHECK(to_hex(bytes) == "03 01 41 05 12 06 A2 A6 00");
    Parser p;
    auto frames = p.feed(bytes);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].kind == Kind::event);
}

TEST_CASE("jig frames with zeros in them survive COBS and round-trip") {
    Frame f{Kind::response, 0, Command::read_dut_supply, encode_supply({0.0, 0.0})};
    auto bytes = encode(f);
    for (std::size_t i = 0; i + 1 < bytes.size(); ++i) REQUIRE(bytes[i] != std::byte{0});
    Parser p;
    auto frames = p.feed(bytes);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0] == f);
}

TEST_CASE("jig parser gives the same frames one byte at a time") {
    Bytes stream;
    for (std::uint8_t seq = 0; seq < 20; ++seq) {
        auto b = encode(Frame{Kind::request, seq, Command::set_dut_power, {std::byte{1}}});
        stream.insert(stream.end(), b.begin(), b.end());
    }
    Parser whole, bytewise;
    auto a = whole.feed(stream);
    std::vector<Frame> b;
    for (auto x : stream) {
        auto f = bytewise.feed(ByteView(&x, 1));
        b.insert(b.end(), f.begin(), f.end());
    }
    REQUIRE(a.size() == 20);
    CHECK(a == b);
}

TEST_CASE("jig parser drops bad crc, short, oversize and bad cobs frames, and resyncs on the delimiter") {
    Parser p;
    auto good = encode(Frame{Kind::request, 1, Command::read_lid, {}});
    auto corrupt = good;
    corrupt[3] ^= std::byte{0x40};
    Bytes stream = corrupt;
    auto junk = hex("02 05 00 03 11 00");  // short body; COBS code past end
    stream.insert(stream.end(), junk.begin(), junk.end());
    Bytes huge(400, std::byte{0x11});
    huge.push_back(std::byte{0});
    stream.insert(stream.end(), huge.begin(), huge.end());
    stream.insert(stream.end(), good.begin(), good.end());
    auto frames = p.feed(stream);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].command == Command::read_lid);
    CHECK(p.dropped().bad_crc == 1);
    CHECK(p.dropped().oversize == 1);
    CHECK(p.dropped().too_short + p.dropped().bad_cobs == 2);
}

TEST_CASE("jig typed payloads round-trip") {
    auto s = decode_supply(encode_supply({16.8, 0.352}));
    REQUIRE(s);
    CHECK(s->voltage_v == doctest::Approx(16.8));
    CHECK(s->current_a == doctest::Approx(0.352));
    auto id = decode_identity(encode_identity({"JIG-0042", "1.3.0"}));
    REQUIRE(id);
    CHECK(id->fixture_id == "JIG-0042");
    auto e = decode_error(encode_error({ErrorCode::interlock_open, "lid open"}));
    REQUIRE(e);
    CHECK(e->code == ErrorCode::interlock_open);
    CHECK(e->message == "lid open");
    CHECK_FALSE(decode_supply(hex("01 02 03")));
}
