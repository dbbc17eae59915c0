#include <doctest/doctest.h>

#include <cmath>

#include "hex.hpp"
#include "protocols/dronecan/messages.hpp"

using namespace rig;
using namespace rig::dronecan;

namespace {
Reassembler make_rx(std::uint8_t node = 127) { return Reassembler(node, known_signature); }
}  // namespace

TEST_CASE("dronecan DC-1: NodeStatus single frame") {
    NodeStatus ns{1000, NodeStatus::Health::ok, NodeStatus::Mode::operational, 0, 0};
    auto frames = encode_transfer({{Kind::message, 24, NodeStatus::id, 42, 0, 0}, 5, ns.encode()}, NodeStatus::signature);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].id == 0x1801552A);
    CHECK(to_hex(frames[0].data) == "E8 03 00 00 00 00 00 C5");
    auto rx = make_rx();
    auto t = rx.feed(frames[0], 0);
    REQUIRE(t);
    CHECK(t->id.source == 42);
    CHECK(t->transfer_id == 5);
    CHECK(*NodeStatus::decode(t->payload) == ns);
}

TEST_CASE("dronecan NodeStatus byte 4 packs health, mode and sub-mode") {
    NodeStatus a{0, NodeStatus::Health::warning, NodeStatus::Mode::initialization, 0, 0};
    CHECK(a.encode()[4] == std::byte{0x48});
    NodeStatus b{0, NodeStatus::Health::ok, NodeStatus::Mode::maintenance, 0, 0};
    CHECK(b.encode()[4] == std::byte{0x10});
}

TEST_CASE("dronecan DC-2: esc.RawCommand for 4 ESCs in one frame (TAO)") {
    EscRawCommand cmd{{1000, 2000, 3000, 4000}};
    CHECK(to_hex(cmd.encode()) == "E8 0F 40 7B 82 E8 0F");
    auto frames = encode_transfer({{Kind::message, 8, EscRawCommand::id, 100, 0, 0}, 17, cmd.encode()}, EscRawCommand::signature);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].id == 0x08040664);
    CHECK(to_hex(frames[0].data) == "E8 0F 40 7B 82 E8 0F D1");
    CHECK(*EscRawCommand::decode(cmd.encode()) == cmd);
    EscRawCommand neg{{-8192, 8191, 0, -1, 5}};
    CHECK(*EscRawCommand::decode(neg.encode()) == neg);
    EscRawCommand clamp{{20000, -20000}};
    CHECK(EscRawCommand::decode(clamp.encode())->cmd == std::vector<std::int16_t>{8191, -8192});
}

TEST_CASE("dronecan DC-3: esc.Status multi-frame with the transfer CRC") {
    EscStatus s{0, 16.0f, 2.5f, 300.0f, 12000, 25, 0};
    CHECK(to_hex(s.encode()) == "00 00 00 00 00 4C 00 41 B0 5C E0 2E 0C 80");
    CHECK(transfer_crc(EscStatus::signature, s.encode()) == 0x817D);
    auto frames = encode_transfer({{Kind::message, 16, EscStatus::id, 21, 0, 0}, 3, s.encode()}, EscStatus::signature);
    REQUIRE(frames.size() == 3);
    for (const auto& f : frames) CHECK(f.id == 0x10040A15);
    CHECK(to_hex(frames[0].data) == "7D 81 00 00 00 00 00 83");
    CHECK(to_hex(frames[1].data) == "4C 00 41 B0 5C E0 2E 23");
    CHECK(to_hex(frames[2].data) == "0C 80 43");
    auto rx = make_rx();
    CHECK_FALSE(rx.feed(frames[0], 0));
    CHECK_FALSE(rx.feed(frames[1], 100));
    auto t = rx.feed(frames[2], 200);
    REQUIRE(t);
    CHECK(*EscStatus::decode(t->payload) == s);
    CHECK(rx.in_progress() == 0);
}

TEST_CASE("dronecan DC-4: GetNodeInfo request service frame") {
    auto frames = encode_transfer({{Kind::request, 30, GetNodeInfo::id, 127, 42, 0}, 0, {}}, GetNodeInfo::signature);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].id == 0x1E01AAFF);
    CHECK(to_hex(frames[0].data) == "C0");
    auto id = decode_id(0x1E01AAFF);
    CHECK(id.kind == Kind::request);
    CHECK(id.priority == 30);
    CHECK(id.destination == 42);
    CHECK(id.source == 127);
    auto rx = make_rx(42);
    CHECK(rx.feed(frames[0], 0));
    auto other = make_rx(43);
    CHECK_FALSE(other.feed(frames[0], 0));
    CHECK(other.dropped().not_for_us == 1);
}

TEST_CASE("dronecan GetNodeInfo response round-trips through a multi-frame transfer") {
    GetNodeInfo::Response r;
    r.status = {12, NodeStatus::Health::ok, NodeStatus::Mode::operational, 0, 7};
    r.sw_major = 1;
    r.sw_minor = 4;
    r.sw_flags = 1;
    r.vcs_commit = 0xDEADBEEF;
    r.hw_major = 2;
    r.unique_id[15] = 0xAB;
    r.certificate = to_bytes({1, 2, 3});
    r.name = "com.vendor.esc";
    auto frames = encode_transfer({{Kind::response, 16, GetNodeInfo::id, 42, 127, 0}, 9, r.encode()}, GetNodeInfo::signature);
    CHECK(frames.size() > 1);
    auto rx = make_rx(127);
    std::optional<Transfer> t;
    for (const auto& f : frames) t = rx.feed(f, 0);
    REQUIRE(t);
    CHECK(t->transfer_id == 9);
    CHECK(*GetNodeInfo::Response::decode(t->payload) == r);
}

TEST_CASE("dronecan BatteryInfo round-trips with a TAO model name") {
    BatteryInfo b;
    b.temperature_k = 300.0f;
    b.voltage_v = 16.0f;
    b.current_a = 2.5f;
    b.status_flags = 0x401;
    b.state_of_charge_pct = 87;
    b.battery_id = 1;
    b.model_instance_id = 123456;
    b.model_name = "ACME 4S LiPo";
    auto p = b.encode();
    CHECK(p.size() == 23 + b.model_name.size());
    CHECK(*BatteryInfo::decode(p) == b);
    auto frames = encode_transfer({{Kind::message, 24, BatteryInfo::id, 30, 0, 0}, 1, p}, BatteryInfo::signature);
    auto rx = make_rx();
    std::optional<Transfer> t;
    for (const auto& f : frames) t = rx.feed(f, 0);
    REQUIRE(t);
    CHECK(*BatteryInfo::decode(t->payload) == b);
}

TEST_CASE("dronecan reassembly: toggle errors, bad CRC, missed start and timeout are dropped and counted") {
    EscStatus s{0, 16.0f, 2.5f, 300.0f, 12000, 25, 0};
    auto frames = encode_transfer({{Kind::message, 16, EscStatus::id, 21, 0, 0}, 3, s.encode()}, EscStatus::signature);
    {
        auto rx = make_rx();
        auto dup = frames;
        rx.feed(dup[0], 0);
        rx.feed(dup[1], 1);
        CHECK_FALSE(rx.feed(dup[1], 2));  // repeated frame: wrong toggle
        CHECK(rx.dropped().bad_toggle == 1);
        CHECK_FALSE(rx.feed(dup[2], 3));
        CHECK(rx.dropped().missed_start == 1);
    }
    {
        auto rx = make_rx();
        auto bad = frames;
        bad[1].data[2] ^= std::byte{1};
        for (const auto& f : bad) CHECK_FALSE(rx.feed(f, 0));
        CHECK(rx.dropped().bad_crc == 1);
    }
    {
        auto rx = make_rx();
        rx.feed(frames[0], 0);
        rx.feed(frames[1], 10);
        CHECK_FALSE(rx.feed(frames[2], Reassembler::kTimeoutUs + 100));
        CHECK(rx.dropped().timed_out == 1);
    }
    {
        auto rx = make_rx();
        CanFrame std_frame{0x123, false, false, to_bytes({0xC0}), 0};
        CHECK_FALSE(rx.feed(std_frame, 0));
        CHECK(rx.dropped().not_extended == 1);
        CanFrame unknown{encode_id({Kind::message, 16, 999, 5, 0, 0}), true, false, to_bytes({1, 0xC0}), 0};
        CHECK_FALSE(rx.feed(unknown, 0));
        CHECK(rx.dropped().unknown_type == 1);
    }
}

TEST_CASE("dronecan interleaved transfers from two sources reassemble independently") {
    EscStatus a{1, 16.0f, 2.5f, 300.0f, 100, 1, 0};
    EscStatus b{2, 15.0f, 1.0f, 310.0f, -200, 2, 1};
    auto fa = encode_transfer({{Kind::message, 16, EscStatus::id, 21, 0, 0}, 1, a.encode()}, EscStatus::signature);
    auto fb = encode_transfer({{Kind::message, 16, EscStatus::id, 22, 0, 0}, 1, b.encode()}, EscStatus::signature);
    auto rx = make_rx();
    std::vector<Transfer> done;
    for (std::size_t i = 0; i < fa.size(); ++i) {
        if (auto t = rx.feed(fa[i], i)) done.push_back(*t);
        if (auto t = rx.feed(fb[i], i)) done.push_back(*t);
    }
    REQUIRE(done.size() == 2);
    CHECK(*EscStatus::decode(done[0].payload) == a);
    CHECK(*EscStatus::decode(done[1].payload) == b);
}

TEST_CASE("dronecan anonymous frames and ids round-trip") {
    NodeStatus ns{5, NodeStatus::Health::ok, NodeStatus::Mode::initialization, 0, 0};
    CanId anon{Kind::message, 24, 1, 0, 0, 0};
    auto frames = encode_transfer({anon, 0, ns.encode()}, 0);
    REQUIRE(frames.size() == 1);
    auto id = decode_id(frames[0].id);
    CHECK(id.source == 0);
    CHECK(id.data_type_id == 1);
    CHECK_THROWS(encode_transfer({anon, 0, Bytes(8)}, 0));
    for (CanId c : {CanId{Kind::message, 31, 65535, 127, 0, 0}, CanId{Kind::response, 0, 255, 1, 127, 0}}) CHECK(decode_id(encode_id(c)) == c);
}

TEST_CASE("dronecan esc.Status keeps NaN for unknown fields and sign for reverse rpm") {
    EscStatus s{0, NAN, -3.5f, 0, -131072, 127, 31};
    auto d = EscStatus::decode(s.encode());
    REQUIRE(d);
    CHECK(std::isnan(d->voltage_v));
    CHECK(d->current_a == -3.5f);
    CHECK(d->rpm == -131072);
    CHECK(d->esc_index == 31);
    CHECK_FALSE(EscStatus::decode(hex("00 00 00")));
}
