#include <doctest/doctest.h>

#include "hex.hpp"
#include "protocols/common/crc.hpp"
#include "protocols/crsf/crsf.hpp"

using namespace rig;
using namespace rig::crsf;

TEST_CASE("crsf encodes the golden vectors CRSF-1..5") {
    LinkStatistics ls{65, 0, 100, 9, 0, 7, 3, 72, 100, 8};
    CHECK(to_hex(encode({kSync, type::link_statistics, 0, 0, ls.encode()})) == "C8 0C 14 41 00 64 09 00 07 03 48 64 08 B7");
    RcChannels rc;
    rc.ticks.fill(992);
    rc.ticks[2] = 172;
    rc.ticks[4] = 1811;
    rc.ticks[5] = 172;
    CHECK(to_hex(encode({kSync, type::rc_channels_packed, 0, 0, rc.encode()})) ==
          "C8 18 16 E0 03 1F 2B C0 37 71 56 80 0F 7C E0 03 1F F8 C0 07 3E F0 81 0F 7C F6");
    BatterySensor b{16.8, 12.3, 1234, 75};
    CHECK(to_hex(encode({kSync, type::battery_sensor, 0, 0, b.encode()})) == "C8 0A 08 00 A8 00 7B 00 04 D2 4B C8");
    CHECK(to_hex(encode(make_ping(addr::broadcast, addr::handset))) == "C8 04 28 00 EA 54");
    CHECK(to_hex(encode({kSync, type::parameter_read, addr::tx_module, addr::handset, ParameterRead{1, 0}.encode()})) == "C8 06 2C EE EA 01 00 86");
}

TEST_CASE("crsf parser decodes the vectors in any chunking and checks payloads") {
    Bytes stream;
    for (auto v : {"C8 0C 14 41 00 64 09 00 07 03 48 64 08 B7", "C8 18 16 E0 03 1F 2B C0 37 71 56 80 0F 7C E0 03 1F F8 C0 07 3E F0 81 0F 7C F6",
                   "C8 0A 08 00 A8 00 7B 00 04 D2 4B C8", "C8 04 28 00 EA 54", "EE 06 2C EE EA 01 00 86"}) {
        auto b = hex(v);
        stream.insert(stream.end(), b.begin(), b.end());
    }
    Parser whole, single;
    auto a = whole.feed(stream);
    std::vector<Frame> b;
    for (auto x : stream) {
        auto f = single.feed(ByteView(&x, 1));
        b.insert(b.end(), f.begin(), f.end());
    }
    REQUIRE(a.size() == 5);
    CHECK(a == b);
    auto rc = RcChannels::decode(a[1].payload);
    REQUIRE(rc);
    CHECK(rc->ticks[4] == 1811);
    CHECK(rc->ticks[15] == 992);
    auto batt = BatterySensor::decode(a[2].payload);
    REQUIRE(batt);
    CHECK(batt->voltage_v == doctest::Approx(16.8));
    CHECK(batt->capacity_mah == 1234);
    CHECK(a[3].dest == 0x00);
    CHECK(a[3].origin == 0xEA);
    CHECK(a[4].address == 0xEE);  // a device address instead of the serial sync
    CHECK(LinkStatistics::decode(a[0].payload)->uplink_tx_power_mw() == 100);
}

TEST_CASE("crsf parser resyncs after garbage and a corrupted frame") {
    Parser p;
    auto good = hex("C8 04 28 00 EA 54");
    auto bad = good;
    bad[4] ^= std::byte{1};
    Bytes stream = hex("FF 00 C8 C8");
    stream.insert(stream.end(), bad.begin(), bad.end());
    stream.insert(stream.end(), good.begin(), good.end());
    auto frames = p.feed(stream);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].type == type::device_ping);
    CHECK(p.dropped().bad_crc + p.dropped().bad_length >= 2);
}

TEST_CASE("crsf rc channel packing round-trips every 11-bit value in every slot") {
    for (std::uint16_t v = 0; v < 2048; v += 7) {
        RcChannels rc;
        for (std::size_t i = 0; i < 16; ++i) rc.ticks[i] = static_cast<std::uint16_t>((v + i * 131) & 0x7FF);
        REQUIRE(*RcChannels::decode(rc.encode()) == rc);
    }
    CHECK(ticks_to_us(992) == 1500);
    CHECK(ticks_to_us(172) == 987.5);
    CHECK(us_to_ticks(2000) == 1792);
}

TEST_CASE("crsf device info and parameter entries decode") {
    DeviceInfo d{"ExpressLRS TX", 0x454C5253, 0, 0x00030401, 42, 0};
    CHECK(*DeviceInfo::decode(d.encode()) == d);
    ByteWriter sel;
    sel.u8(0).u8(9).cstring("Packet Rate").cstring("50Hz;150Hz;500Hz").u8(1).u8(0).u8(2).u8(1).cstring("Hz");
    auto e = ParameterEntry::decode(sel.view());
    REQUIRE(e);
    CHECK(e->type == ParameterEntry::Type::text_selection);
    REQUIRE(e->options.size() == 3);
    CHECK(e->options[2] == "500Hz");
    CHECK(e->value == 1);
    ByteWriter folder;
    folder.u8(0).u8(0x80 | 11).cstring("Other").u8(5).u8(6).u8(0xFF);
    auto f = ParameterEntry::decode(folder.view());
    REQUIRE(f);
    CHECK(f->hidden);
    CHECK(f->children == std::vector<std::uint8_t>{5, 6});
    ByteWriter cmd;
    cmd.u8(0).u8(13).cstring("Bind").u8(0).u8(50).cstring("");
    CHECK(ParameterEntry::decode(cmd.view())->timeout_100ms == 50);
    ByteWriter cut;
    cut.u8(0).u8(9).cstring("Rate");
    CHECK_FALSE(ParameterEntry::decode(cut.view()));
}

TEST_CASE("crsf command frames carry the inner poly-0xBA CRC") {
    auto f = make_command(addr::receiver, addr::flight_controller, 0x10, hex("01"));
    auto inner = hex("32 EC C8 10 01");
    CHECK(f.payload.back() == static_cast<std::byte>(crc::crc8_ba(inner)));
    Parser p;
    auto frames = p.feed(encode(f));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0] == f);
}

TEST_CASE("crsf link statistics and battery round-trip, including negative SNR") {
    LinkStatistics ls{90, 95, 45, -7, 1, 2, 8, 100, 30, -12};
    CHECK(*LinkStatistics::decode(ls.encode()) == ls);
    CHECK(ls.uplink_tx_power_mw() == 50);
    auto b = BatterySensor::decode(BatterySensor{25.2, 0.0, 0xFFFFFF, 100}.encode());
    REQUIRE(b);
    CHECK(b->capacity_mah == 0xFFFFFF);
    CHECK(b->voltage_v == doctest::Approx(25.2));
    CHECK_FALSE(BatterySensor::decode(hex("00 A8 00")));
    ParameterWrite w{3, hex("00 00 01 F4")};
    CHECK(ParameterWrite::decode(w.encode())->value == w.value);
}
