#include <doctest/doctest.h>

#include "hex.hpp"
#include "protocols/msp/frame.hpp"
#include "protocols/msp/messages.hpp"

using namespace rig;
using namespace rig::msp;

namespace {
std::vector<Frame> feed_bytewise(Parser& p, ByteView data) {
    std::vector<Frame> out;
    for (auto b : data) {
        auto f = p.feed(ByteView(&b, 1));
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}
Bytes payload_of(const std::string& s) { return Bytes(as_bytes(s).begin(), as_bytes(s).end()); }
}  // namespace

TEST_CASE("msp encodes the golden vectors of reference/protocols.md") {
    CHECK(to_hex(encode(make_request(cmd::api_version))) == "24 4D 3C 00 01 01");                        // MSP-1
    CHECK(to_hex(encode(make_reply(ApiVersion{0, 1, 46}))) == "24 4D 3E 03 01 00 01 2E 2D");            // MSP-2
    CHECK(to_hex(encode(make_request(11, payload_of("TEST1")))) == "24 4D 3C 05 0B 54 45 53 54 31 29");  // MSP-3
    CHECK(to_hex(encode(Frame{Direction::error, 250, {}, Version::v1, 0})) == "24 4D 21 00 FA FA");     // MSP-4
    CHECK(to_hex(encode(make_request(150, {}, Version::v2))) == "24 58 3C 00 96 00 00 00 BE");           // MSP-6
    CHECK(to_hex(encode(make_request(150, {}, Version::v2_in_v1))) == "24 4D 3C 06 FF 00 96 00 00 00 BE D1");  // MSP-7
    CHECK(to_hex(encode(make_request(100, {}, Version::v2))) == "24 58 3C 00 64 00 00 00 8F");           // MSP-8
    const Frame hello{Direction::reply, 0x4242, payload_of("Hello flying world"), Version::v2, 0xA5};
    CHECK(to_hex(encode(hello)) ==
          "24 58 3E A5 42 42 12 00 48 65 6C 6C 6F 20 66 6C 79 69 6E 67 20 77 6F 72 6C 64 82");  // MSP-9
    auto encapsulated = hello;
    encapsulated.version = Version::v2_in_v1;
    CHECK(to_hex(encode(encapsulated)) ==
          "24 4D 3E 18 FF A5 42 42 12 00 48 65 6C 6C 6F 20 66 6C 79 69 6E 67 20 77 6F 72 6C 64 82 E1");  // MSP-10
}

TEST_CASE("msp battery-state vector MSP-5 decodes byte for byte") {
    Parser p;
    auto frames = p.feed(hex("24 4D 3E 0B 82 04 DC 05 A8 00 00 34 00 00 90 06 5E"));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].command == 130);
    CHECK(frames[0].payload.size() == 11);
    CHECK(encode(frames[0]) == hex("24 4D 3E 0B 82 04 DC 05 A8 00 00 34 00 00 90 06 5E"));
}

TEST_CASE("msp jumbo reply MSP-J encodes with the golden header and checksum") {
    Bytes payload(300);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::byte>(i & 0xFF);
    auto bytes = encode(Frame{Direction::reply, 116, payload, Version::v1, 0});
    REQUIRE(bytes.size() == 7 + 300 + 1);
    CHECK(to_hex(ByteView(bytes).first(7)) == "24 4D 3E FF 74 2C 01");
    CHECK(bytes.back() == std::byte{0xA6});
    Parser p;
    auto frames = p.feed(bytes);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].payload == payload);
}

TEST_CASE("msp parser gives the same frames one byte at a time as in one buffer") {
    Bytes stream;
    for (const auto& v : {"24 4D 3C 00 01 01", "24 58 3C 00 96 00 00 00 BE", "24 4D 3C 06 FF 00 96 00 00 00 BE D1",
                          "24 4D 3E 0B 82 04 DC 05 A8 00 00 34 00 00 90 06 5E"}) {
        auto b = hex(v);
        stream.insert(stream.end(), b.begin(), b.end());
    }
    Parser whole, bytewise;
    auto a = whole.feed(stream);
    auto b = feed_bytewise(bytewise, stream);
    REQUIRE(a.size() == 4);
    CHECK(a == b);
    CHECK(a[1].version == Version::v2);
    CHECK(a[2].version == Version::v2_in_v1);
    CHECK(a[2].command == 150);
}

TEST_CASE("msp parser resyncs after garbage and drops a frame with a bad checksum") {
    Parser p;
    auto bad = hex("24 4D 3E 03 01 00 01 2E 2C");  // MSP-2 with its checksum off by one
    auto good = hex("24 4D 3E 03 01 00 01 2E 2D");
    Bytes stream = hex("52 23 00 FF 24 24");  // garbage, including a false '$' start
    stream.insert(stream.end(), bad.begin(), bad.end());
    stream.insert(stream.end(), good.begin(), good.end());
    auto frames = feed_bytewise(p, stream);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].payload == hex("00 01 2E"));
    CHECK(p.dropped().bad_checksum == 1);
    CHECK(p.dropped().garbage_bytes >= 5);
}

TEST_CASE("msp parser finds a frame that starts inside a corrupt one") {
    Parser p;
    // A header declaring 5 payload bytes, cut short by a real frame.
    auto stream = hex("24 4D 3E 05 01");
    auto good = hex("24 4D 3C 00 01 01");
    stream.insert(stream.end(), good.begin(), good.end());
    auto frames = p.feed(stream);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].command == 1);
    CHECK(frames[0].dir == Direction::request);
}

TEST_CASE("msp parser rejects oversize frames and keeps going") {
    Parser p(64);
    auto stream = hex("24 58 3E 00 01 00 00 10");  // v2 declaring 4096 bytes
    auto good = hex("24 4D 3C 00 01 01");
    stream.insert(stream.end(), good.begin(), good.end());
    auto frames = p.feed(stream);
    CHECK(p.dropped().oversize == 1);
    REQUIRE(frames.size() == 1);
}

TEST_CASE("msp v2-in-v1 with a short inner block is dropped as malformed") {
    Parser p;
    auto frames = p.feed(hex("24 4D 3C 02 FF 00 96 6B"));
    CHECK(frames.empty());
    CHECK(p.dropped().malformed == 1);
}

TEST_CASE("msp v2-in-v1 with a bad inner crc counts as a bad checksum") {
    Parser p;
    auto frames = p.feed(hex("24 4D 3C 06 FF 00 96 00 00 00 BF D0"));
    CHECK(frames.empty());
    CHECK(p.dropped().bad_checksum == 1);
}

TEST_CASE("msp typed messages round-trip with their scales") {
    Analog a;
    a.vbat_v = 16.82;
    a.current_a = -1.25;
    a.mah_drawn = 12;
    a.rssi = 1023;
    auto da = Analog::decode(a.encode());
    REQUIRE(da);
    CHECK(da->vbat_v == doctest::Approx(16.82));
    CHECK(da->current_a == doctest::Approx(-1.25));
    CHECK(a.encode()[0] == std::byte{168});  // legacy 0.1 V byte

    RawImu imu{{1, -2, 2048}, {3, -4, 5}, {0, 0, 0}};
    CHECK(*RawImu::decode(imu.encode()) == imu);

    MotorTelemetry t;
    t.motors = {{24000, 1.5, 40, 16.8, 2.34, 7}, {0, 0, 0, 0, 0, 0}};
    auto dt = MotorTelemetry::decode(t.encode());
    REQUIRE(dt);
    REQUIRE(dt->motors.size() == 2);
    CHECK(dt->motors[0].rpm == 24000);
    CHECK(dt->motors[0].invalid_pct == doctest::Approx(1.5));
    CHECK(dt->motors[0].current_a == doctest::Approx(2.34));
    CHECK(dt->motors[0].voltage_v == doctest::Approx(16.8));

    auto sm = SetMotor::all_stopped();
    sm.value[2] = 1300;
    CHECK(sm.encode().size() == 16);
    CHECK(*SetMotor::decode(sm.encode()) == sm);

    Uid uid{{0x00390021, 0x31385111, 0x36333935}};
    CHECK(Uid::decode(uid.encode())->hex() == "003900213138511136333935");

    FcVersion v{26, 12, 0, "2026.12.0-alpha"};
    CHECK(*FcVersion::decode(v.encode()) == v);
    CHECK(FcVersion::decode(hex("04 05 01"))->text() == "4.5.1");

    CHECK(FcVariant::decode(FcVariant{"BTFL"}.encode())->identifier == "BTFL");

    BoardInfo b;
    b.board_id = "S7X2";
    b.target_name = "STM32F7X2";
    b.board_name = "SPEEDYBEEF7V3";
    b.manufacturer_id = "SPBE";
    b.gyro_rate_hz = 8000;
    b.configuration_problems = 1;
    CHECK(*BoardInfo::decode(b.encode()) == b);
}

TEST_CASE("msp typed decode refuses truncated payloads and error replies") {
    CHECK_FALSE(Analog::decode(hex("A8 00 00")));
    CHECK_FALSE(RawImu::decode(hex("00 00 00 00")));
    CHECK_FALSE(MotorTelemetry::decode(hex("04 00 00")));
    auto r = decode<Analog>(Frame{Direction::error, cmd::analog, {}, Version::v1, 0});
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("error reply") != std::string::npos);
    CHECK_FALSE(decode<Analog>(make_reply(ApiVersion{})));
}

TEST_CASE("msp analog from older firmware falls back to the 0.1 V byte") {
    auto a = Analog::decode(hex("A8 00 00 00 00 34 00"));
    REQUIRE(a);
    CHECK(a->vbat_v == doctest::Approx(16.8));
}

#include "protocols/msp/commands.hpp"
#include "protocols/msp/telemetry.hpp"

TEST_CASE("msp battery state MSP-5 decodes with its scales") {
    auto b = BatteryState::decode(hex("04 DC 05 A8 00 00 34 00 00 90 06"));
    REQUIRE(b);
    CHECK(b->cell_count == 4);
    CHECK(b->capacity_mah == 1500);
    CHECK(b->voltage_v == doctest::Approx(16.8));
    CHECK(b->current_a == doctest::Approx(0.52));
    CHECK(b->state == BatteryState::State::ok);
    CHECK(to_hex(encode(make_reply(*b))) == "24 4D 3E 0B 82 04 DC 05 A8 00 00 34 00 00 90 06 5E");
}

TEST_CASE("msp error reply vector MSP-4 is refused by check_ack, and a set-name request matches MSP-3") {
    Parser p;
    auto frames = p.feed(hex("24 4D 21 00 FA FA"));
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].dir == Direction::error);
    auto ack = check_ack(frames[0], cmd::eeprom_write);
    REQUIRE_FALSE(ack);
    CHECK(ack.error().message == "msp: command 250 refused ('!' reply)");
    CHECK(check_ack(Frame{Direction::reply, cmd::eeprom_write, {}, Version::v1, 0}, cmd::eeprom_write));
    CHECK(to_hex(encode(set_name("TEST1"))) == "24 4D 3C 05 0B 54 45 53 54 31 29");
    CHECK(set_name("A-NAME-LONGER-THAN-16").payload.size() == 16);
}

TEST_CASE("msp status and status_ex round-trip and differ only at offset 13") {
    StatusEx s;
    s.cycle_time_us = 125;
    s.sensors = sensor::acc | sensor::gyro;
    s.box_flags = 1;
    s.pid_profile_count = 4;
    s.rate_profile = 2;
    s.extra_box_flags = {0x80};
    s.arming_disable_count = 30;
    s.arming_disable_flags = arming::cli | arming::msp;
    s.cpu_temp_c = 41;
    s.rate_profile_count = 4;
    s.battery_profile_count = 3;
    s.battery_profile = 1;
    auto back = StatusEx::decode(s.encode());
    REQUIRE(back);
    CHECK(*back == s);
    CHECK(back->armed());
    Status plain;
    plain.cycle_time_us = 125;
    auto a = plain.encode(), b = StatusEx{}.encode();
    CHECK(a.size() == b.size());
    CHECK(a.size() == 27);  // 27 + N with N = 0
    auto old = Status::decode(ByteView(a).first(16));  // firmware without the tail fields
    REQUIRE(old);
    CHECK(old->arming_disable_flags == 0);
    CHECK_FALSE(Status::decode(ByteView(a).first(10)));
}

TEST_CASE("msp telemetry replies round-trip with their scales") {
    auto att = Attitude::decode(Attitude{12.3, -4.5, 271}.encode());
    REQUIRE(att);
    CHECK(att->roll_deg == doctest::Approx(12.3));
    CHECK(att->pitch_deg == doctest::Approx(-4.5));
    CHECK(att->yaw_deg == 271);
    CHECK(*Altitude::decode(Altitude{-1234, 56}.encode()) == Altitude{-1234, 56});
    Rc rc{{1500, 1500, 1000, 1500, 2000, 1000, 1500, 1500}};
    CHECK(*Rc::decode(rc.encode()) == rc);
    CHECK_FALSE(Rc::decode(hex("DC 05 DC")));
    VtxConfig v;
    v.device_type = 3;
    v.band = 5;
    v.channel = 1;
    v.frequency_mhz = 5658;
    v.table_power_levels = 5;
    CHECK(v.encode().size() == 15);
    CHECK(*VtxConfig::decode(v.encode()) == v);
    // SET_VTX_CONFIG: R8 (band 5, channel 8) is code (5-1)*8 + 7 = 39 = 0x27; power 3, pit off.
    SetVtxConfig set{5, 8, 0, 3, 0};
    CHECK(set.encode() == hex("27 00 03 00"));
    CHECK(*SetVtxConfig::decode(hex("27 00 03 00")) == set);
    // Above 63 the code is a frequency in MHz: 5800 = 0x16A8, band 0.
    SetVtxConfig by_freq{0, 0, 5800, 1, 1};
    CHECK(by_freq.encode() == hex("A8 16 01 01"));
    CHECK(*SetVtxConfig::decode(by_freq.encode()) == by_freq);
    CHECK_FALSE(SetVtxConfig::decode(hex("27")));
    SensorAlignment sa{1, 1, 0, 1, 1, 0, 0, 900};
    CHECK(sa.encode().size() == 11);
    CHECK(*SensorAlignment::decode(sa.encode()) == sa);
    BuildInfo bi{"Nov 22 2026", "21:43:19", "301d01a", {4097, 16430}};
    CHECK(*BuildInfo::decode(bi.encode()) == bi);
    CHECK(Name::decode(Name{"FPV5-000101"}.encode())->name == "FPV5-000101");
}

TEST_CASE("msp reboot echoes its mode; arming-disable carries two bytes") {
    CHECK(to_hex(reboot(RebootMode::bootloader_rom).payload) == "01");
    auto r = decode_reboot_reply(Frame{Direction::reply, cmd::reboot, hex("01"), Version::v1, 0});
    REQUIRE(r);
    CHECK(*r == RebootMode::bootloader_rom);
    CHECK_FALSE(decode_reboot_reply(Frame{Direction::error, cmd::reboot, {}, Version::v1, 0}));
    CHECK(to_hex(set_arming_disabled(true).payload) == "01 00");
    CHECK(acc_calibration().command == 205);
    CHECK(eeprom_write().payload.empty());
}

TEST_CASE("msp v2-over-v1 jumbo reply encodes and parses") {
    Bytes payload(300, std::byte{0x5A});
    Frame f{Direction::reply, 0x3000, payload, Version::v2_in_v1, 0};
    auto bytes = encode(f);
    CHECK(bytes[3] == std::byte{0xFF});  // v1 size byte: jumbo marker
    CHECK(bytes[4] == std::byte{0xFF});  // v1 cmd: v2 marker
    Parser p;
    auto frames = p.feed(bytes);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0] == f);
}

TEST_CASE("msp: every typed message round-trips through a frame, in v1 and v2") {
    for (auto version : {Version::v1, Version::v2, Version::v2_in_v1}) {
        Parser p;
        auto through = [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            auto frames = p.feed(encode(make_reply(m, version)));
            REQUIRE(frames.size() == 1);
            auto back = decode<M>(frames[0]);
            REQUIRE(back);
            return *back;
        };
        CHECK(through(ApiVersion{0, 1, 47}) == ApiVersion{0, 1, 47});
        CHECK(through(FcVariant{"INAV"}) == FcVariant{"INAV"});
        Motor m;
        m.value = {1000, 1100, 1200, 1300, 0, 0, 0, 0};
        CHECK(through(m) == m);
        CHECK(through(Uid{{1, 2, 3}}) == Uid{{1, 2, 3}});
        RawImu imu{{-1, 2, 4096}, {-300, 0, 300}, {10, 20, 30}};
        CHECK(through(imu) == imu);
        CHECK(through(Analog{16.8, 5, 1000, 12.34}).current_a == doctest::Approx(12.34));
        CHECK(through(Altitude{100, -5}) == Altitude{100, -5});
        CHECK(p.dropped().bad_checksum == 0);
    }
}
