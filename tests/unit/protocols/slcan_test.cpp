#include <doctest/doctest.h>

#include "hex.hpp"
#include "protocols/slcan/slcan.hpp"

using namespace rig;
using namespace rig::slcan;

namespace {
std::vector<Event> feed_str(Parser& p, const std::string& s) { return p.feed(as_bytes(s)); }
}  // namespace

TEST_CASE("slcan encodes the DroneCAN DC-1 example line and commands") {
    CanFrame f{0x1801552A, true, false, hex("E8 03 00 00 00 00 00 C5"), 0};
    CHECK(frame(f) == "T1801552A8E8030000000000C5\r");
    CHECK(*bitrate(1000000) == "S8\r");
    CHECK(*bitrate(125000) == "S4\r");
    CHECK(*bitrate(750000) == "S7\r");
    CHECK_FALSE(bitrate(333333));
    CHECK(open() == "O\r");
    CHECK(close() == "C\r");
    CHECK(timestamps(true) == "Z1\r");
    CHECK(frame(CanFrame{0x123, false, false, hex("01 AB"), 0}) == "t1232" "01AB\r");
    CHECK(frame(CanFrame{0x7FF, false, true, {}, 4}) == "r7FF4\r");
    CHECK(frame(CanFrame{0x1ABCDEF0, true, true, {}, 0}) == "R1ABCDEF00\r");
    CHECK(frame(CanFrame{0x100, false, false, {}, 0}, 0xEA5F) == "t1000EA5F\r");
}

TEST_CASE("slcan parses frames, timestamps, acks and bells in any chunking, either hex case") {
    const std::string stream = "T1801552A8e8030000000000c5\r\rz\rZ\r\at1232" "01AB1234\rr7FF4\rV1013\rF00\r";
    Parser whole, single;
    auto a = feed_str(whole, stream);
    std::vector<Event> b;
    for (char c : stream) {
        auto e = feed_str(single, std::string(1, c));
        b.insert(b.end(), e.begin(), e.end());
    }
    REQUIRE(a.size() == 9);
    CHECK(a == b);
    auto& f0 = std::get<FrameLine>(a[0]);
    CHECK(f0.frame.id == 0x1801552A);
    CHECK(f0.frame.extended);
    CHECK(to_hex(f0.frame.data) == "E8 03 00 00 00 00 00 C5");
    CHECK(std::holds_alternative<Ok>(a[1]));
    CHECK_FALSE(std::get<TxOk>(a[2]).extended);
    CHECK(std::get<TxOk>(a[3]).extended);
    CHECK(std::holds_alternative<Bell>(a[4]));
    auto& f5 = std::get<FrameLine>(a[5]);
    CHECK(f5.timestamp_ms == 0x1234);
    CHECK(std::get<FrameLine>(a[6]).frame.rtr_dlc == 4);
    CHECK(std::get<Command>(a[7]) == Command{'V', "1013"});
    CHECK(std::get<Command>(a[8]) == Command{'F', "00"});
}

TEST_CASE("slcan rejects malformed lines with a message and keeps going") {
    Parser p;
    auto ev = feed_str(p, "T1801552A9E8\rt12G0\rt1231\rT2FFFFFFF0\rt1230FFFF\rt1230\r");
    REQUIRE(ev.size() == 1);
    CHECK(std::get<FrameLine>(ev[0]).frame.id == 0x123);
    CHECK(p.dropped().malformed == 5);
    CHECK(p.last_error() == "slcan: line 't1230FFFF': bad timestamp (0000..EA5F)");
    auto r = parse_line("T1801552A9E8");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "slcan: line 'T1801552A9E8': DLC must be 0..8");
    Parser q;
    feed_str(q, std::string(100, '1') + "\rt1230\r");
    CHECK(q.dropped().overlong == 1);
}

TEST_CASE("slcan frame lines round-trip for every DLC, both ID widths and with timestamps") {
    for (int dlc = 0; dlc <= 8; ++dlc) {
        for (bool ext : {false, true}) {
            CanFrame f{ext ? 0x1ABCDEFu : 0x5A5u, ext, false, {}, 0};
            for (int i = 0; i < dlc; ++i) f.data.push_back(static_cast<std::byte>(i * 37));
            for (auto ts : {std::optional<std::uint16_t>{}, std::optional<std::uint16_t>{59999}}) {
                std::string line = frame(f, ts);
                line.pop_back();
                auto e = parse_line(line);
                REQUIRE(e);
                CHECK(std::get<FrameLine>(*e) == FrameLine{f, ts});
            }
        }
    }
}
