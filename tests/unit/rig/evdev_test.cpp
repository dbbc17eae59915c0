// A USB HID barcode scanner through evdev, under umockdev's emulation: libevdev opens and grabs
// it, BarcodeScanner decodes its key events, and an unplugged scanner is reported.
#include <doctest/doctest.h>

#include "fixtures/sim/umockdev_evdev.hpp"
#include "rig/io/evdev.hpp"
#include "scanner_wait.hpp"
#include "support.hpp"

using namespace rig;

TEST_CASE("evdev scanner: grabbed, barcodes typed with shift, dropped events, no Enter, unplugged") {
    rigsim::UmockdevScanner dev(3, 7);
    test::ScannerProbe probe("evdev:" + dev.devnode());
    test::run_coro([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<void> {
        probe.start(ex);
        CHECK(co_await test::wait_until([&] { return probe.scanner.connected(); }));
        CHECK(dev.grabbed());
        // Another program (a second rigd, a desktop) cannot take the grabbed scanner.
        auto second = io::EvdevInput::open(ex, dev.devnode());
        REQUIRE_FALSE(second);
        CHECK(second.error().message ==
              "evdev:/dev/input/event7: 'RIGSIM Hand Scanner' cannot be grabbed: Device or resource busy (another program holds it)");
        dev.type("FPV5-000401");
        CHECK(co_await test::wait_until([&] { return probe.reads.size() == 1; }));
        dev.type("fpv5-{000402}");
        CHECK(co_await test::wait_until([&] { return probe.reads.size() == 2; }));
        dev.type("FPV5-00", false);
        dev.drop_events();
        CHECK(co_await test::wait_until([&] { return probe.scanner.connected() && probe.reads.size() == 2; }));
        dev.type("0403");
        CHECK(co_await test::wait_until([&] { return probe.reads.size() == 3; }));
        dev.type("FPV5-000404", false);
        CHECK(co_await test::wait_until([&] { return probe.reads.size() == 4; }));
        dev.unplug();
        CHECK(co_await test::wait_until([&] { return !probe.availability.empty(); }));
        probe.scanner.stop();
        CHECK(co_await test::wait_until([&] { return probe.done; }));
    });
    REQUIRE(probe.reads.size() == 4);
    CHECK(probe.reads[0] == scanner::Scan{"FPV5-000401", ""});
    CHECK(probe.reads[1] == scanner::Scan{"fpv5-{000402}", ""});
    // What came after the drop is not trusted either (libevdev discards up to the next report).
    CHECK(probe.reads[2].error.starts_with("bad read: the kernel dropped key events (scan again) (read 'FPV5-00"));
    CHECK(probe.reads[2].text.empty());
    CHECK(probe.reads[3].error == "bad read: 'FPV5-000404' came with no Enter after it (set the scanner's suffix to Enter)");
    REQUIRE(probe.availability.size() == 1);
    CHECK(probe.availability[0] == "scanner lost: evdev:/dev/input/event7: scanner 'RIGSIM Hand Scanner' lost: No such device");
    REQUIRE_FALSE(probe.log.empty());
    CHECK(probe.log[0] == "event=scanner_ready scanner=\"evdev:/dev/input/event7 ('RIGSIM Hand Scanner', grabbed)\"");
}

TEST_CASE("evdev scanner: released when rig stops reading it; a missing node is named") {
    rigsim::UmockdevScanner dev(4, 9);
    test::ScannerProbe probe("evdev:" + dev.devnode());
    test::run_coro([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<void> {
        probe.start(ex);
        CHECK(co_await test::wait_until([&] { return probe.scanner.connected(); }));
        CHECK(dev.grabbed());
        probe.scanner.stop();
        CHECK(co_await test::wait_until([&] { return probe.done; }));
        auto missing = io::EvdevInput::open(ex, "/dev/input/event42");
        REQUIRE_FALSE(missing);
        CHECK(missing.error().message == "evdev:/dev/input/event42: cannot open: No such file or directory");
    });
    CHECK_FALSE(dev.grabbed());
}
