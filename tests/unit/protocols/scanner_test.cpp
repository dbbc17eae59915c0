#include <doctest/doctest.h>
#include <linux/input-event-codes.h>

#include "protocols/scanner/scanner.hpp"

using namespace rig;
using rig::scanner::KeyDecoder;
using rig::scanner::LineFramer;
using rig::scanner::Scan;

namespace {
Scan good(std::string t) { return Scan{std::move(t), ""}; }

// What a HID scanner sends for `text`: press and release per key, shift around capitals.
std::optional<Scan> type_keys(KeyDecoder& d, const std::vector<std::pair<int, bool>>& keys) {
    std::optional<Scan> last;
    for (auto [code, shift] : keys) {
        if (shift) d.feed(EV_KEY, KEY_LEFTSHIFT, 1);
        if (auto s = d.feed(EV_KEY, static_cast<std::uint16_t>(code), 1)) last = s;
        d.feed(EV_MSC, MSC_SCAN, 0x70000);  // what real keyboards send beside each key
        d.feed(EV_KEY, static_cast<std::uint16_t>(code), 0);
        if (shift) d.feed(EV_KEY, KEY_LEFTSHIFT, 0);
        d.feed(EV_SYN, SYN_REPORT, 0);
    }
    return last;
}
}  // namespace

TEST_CASE("serial scanner: every suffix a scanner is set to ends a barcode, in any chunking") {
    for (const std::string wire : {"FPV5-000101\r", "FPV5-000101\n", "FPV5-000101\r\n", "\x02" "FPV5-000101\x03", "\x02" "FPV5-000101\x03\r\n"}) {
        CAPTURE(wire);
        LineFramer whole;
        CHECK(whole.feed(as_bytes(wire)) == std::vector{good("FPV5-000101")});
        LineFramer bytewise;
        std::vector<Scan> got;
        for (char c : wire)
            for (auto& s : bytewise.feed(ByteView(reinterpret_cast<const std::byte*>(&c), 1))) got.push_back(s);
        CHECK(got == std::vector{good("FPV5-000101")});
        CHECK_FALSE(bytewise.pending());
    }
    LineFramer two;
    CHECK(two.feed(as_bytes(std::string("A1\r\n\r\nB2\r"))) == std::vector{good("A1"), good("B2")});
}

TEST_CASE("serial scanner: STX drops what came before it (line noise, a cut read)") {
    LineFramer f;
    CHECK(f.feed(as_bytes(std::string("garb\x02" "FPV5-000102\x03"))) == std::vector{good("FPV5-000102")});
}

TEST_CASE("serial scanner: bad reads name the byte, the length or the missing suffix") {
    LineFramer f;
    auto bad = f.feed(as_bytes(std::string("FPV5\x7f" "000103\r")));
    REQUIRE(bad.size() == 1);
    CHECK(bad[0].text.empty());
    CHECK(bad[0].error == "bad read: byte 0x7F is no barcode character (read 'FPV5000103')");
    const std::string long_code(129, '7');
    auto overlong = f.feed(as_bytes(long_code + "\r"));
    REQUIRE(overlong.size() == 1);
    CHECK(overlong[0].error == "bad read: longer than 128 characters (read '7777777777777777777777777777777777777777...')");
    CHECK(f.feed(as_bytes(std::string(128, '7') + "\r")) == std::vector{good(std::string(128, '7'))});
    CHECK(f.feed(as_bytes(std::string("FPV5-0001"))).empty());
    CHECK(f.pending());
    auto cut = f.idle();
    REQUIRE(cut);
    CHECK(cut->error == "bad read: 'FPV5-0001' came with no suffix after it (set the scanner's suffix to CR)");
    CHECK_FALSE(f.idle());
}

TEST_CASE("HID scanner: key codes on the US layout, shift for capitals and symbols, Enter ends") {
    CHECK(scanner::us_layout_char(KEY_A, false) == 'a');
    CHECK(scanner::us_layout_char(KEY_A, true) == 'A');
    CHECK(scanner::us_layout_char(KEY_MINUS, false) == '-');
    CHECK(scanner::us_layout_char(KEY_MINUS, true) == '_');
    CHECK(scanner::us_layout_char(KEY_SLASH, true) == '?');
    CHECK(scanner::us_layout_char(KEY_0, false) == '0');
    CHECK(scanner::us_layout_char(KEY_KP7, true) == '7');
    CHECK(scanner::us_layout_char(KEY_F1, false) == 0);
    KeyDecoder d;
    auto s = type_keys(d, {{KEY_F, true}, {KEY_P, true}, {KEY_V, true}, {KEY_5, false}, {KEY_MINUS, false}, {KEY_0, false},
                           {KEY_KP0, false}, {KEY_KP1, false}, {KEY_1, false}, {KEY_0, false}, {KEY_4, false}, {KEY_ENTER, false}});
    REQUIRE(s);
    CHECK(*s == good("FPV5-001104"));
    CHECK_FALSE(d.pending());
}

TEST_CASE("HID scanner: autorepeat and releases type nothing; caps lock inverts letters only") {
    KeyDecoder d;
    d.feed(EV_KEY, KEY_A, 1);
    d.feed(EV_KEY, KEY_A, 2);
    d.feed(EV_KEY, KEY_A, 0);
    d.feed(EV_KEY, KEY_CAPSLOCK, 1);
    d.feed(EV_KEY, KEY_CAPSLOCK, 0);
    d.feed(EV_KEY, KEY_B, 1);
    d.feed(EV_KEY, KEY_LEFTSHIFT, 1);
    d.feed(EV_KEY, KEY_C, 1);
    d.feed(EV_KEY, KEY_1, 1);
    d.feed(EV_KEY, KEY_LEFTSHIFT, 0);
    auto s = d.feed(EV_KEY, KEY_KPENTER, 1);
    REQUIRE(s);
    CHECK(*s == good("aBc!"));
}

TEST_CASE("HID scanner: bad reads: a key with no character, Ctrl, dropped events, no Enter, overlong") {
    KeyDecoder d;
    type_keys(d, {{KEY_A, false}, {KEY_TAB, false}, {KEY_B, false}});
    auto tab = d.feed(EV_KEY, KEY_ENTER, 1);
    REQUIRE(tab);
    CHECK(tab->error == "bad read: key code 15 is no barcode character (read 'ab')");
    d.feed(EV_KEY, KEY_LEFTCTRL, 1);
    d.feed(EV_KEY, KEY_RIGHTBRACE, 1);  // GS (a GS1 separator) as Ctrl+]
    d.feed(EV_KEY, KEY_LEFTCTRL, 0);
    auto gs = d.feed(EV_KEY, KEY_ENTER, 1);
    REQUIRE(gs);
    CHECK(gs->error == "bad read: key Ctrl+code 27 is no barcode character (read '')");
    type_keys(d, {{KEY_A, false}});
    d.dropped();
    type_keys(d, {{KEY_B, false}});
    auto lost = d.feed(EV_KEY, KEY_ENTER, 1);
    REQUIRE(lost);
    CHECK(lost->error == "bad read: the kernel dropped key events (scan again) (read 'ab')");
    type_keys(d, {{KEY_Q, false}});
    auto cut = d.idle();
    REQUIRE(cut);
    CHECK(cut->error == "bad read: 'q' came with no Enter after it (set the scanner's suffix to Enter)");
    for (int i = 0; i < 129; ++i) d.feed(EV_KEY, KEY_7, 1);
    auto overlong = d.feed(EV_KEY, KEY_ENTER, 1);
    REQUIRE(overlong);
    CHECK(overlong->error.starts_with("bad read: longer than 128 characters"));
    CHECK_FALSE(d.feed(EV_KEY, KEY_ENTER, 1));  // Enter alone is no barcode
}
