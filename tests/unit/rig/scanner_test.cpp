// A serial barcode scanner on a real PTY: what BarcodeScanner passes on, and a scanner lost and
// plugged back in at the same path.
#include <doctest/doctest.h>
#include <filesystem>
#include <memory>
#include <unistd.h>

#include "support.hpp"
#include "scanner_wait.hpp"

using namespace rig;
using rig::test::PtyPair;

namespace {
void send(const PtyPair& p, const std::string& bytes) { REQUIRE(::write(p.master, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())); }
}  // namespace

TEST_CASE("serial scanner: barcodes and bad reads passed on; lost once, found again at its path") {
    const auto dir = std::filesystem::temp_directory_path() / ("rig-scanner-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto link = dir / "scanner";
    auto pty = std::make_unique<PtyPair>();
    std::filesystem::remove(link);
    std::filesystem::create_symlink(pty->path, link);
    test::ScannerProbe probe("serial:" + link.string() + "?baud=9600");
    test::run_coro([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<void> {
        probe.start(ex);
        CHECK(co_await test::wait_until([&] { return probe.scanner.connected(); }));
        send(*pty, "FPV5-000301\r");
        send(*pty, "\x02" "FPV5-000302\x03\r\n");
        send(*pty, "FPV5\x01" "000303\r");
        CHECK(co_await test::wait_until([&] { return probe.reads.size() == 3; }));
        send(*pty, "FPV5-0003");  // no suffix: a bad read once the line is quiet
        CHECK(co_await test::wait_until([&] { return probe.reads.size() == 4; }));
        pty.reset();  // unplugged: the tty hangs up
        CHECK(co_await test::wait_until([&] { return probe.availability.size() == 1; }));
        pty = std::make_unique<PtyPair>();  // plugged in again: a new tty behind the same link
        std::filesystem::remove(link);
        std::filesystem::create_symlink(pty->path, link);
        CHECK(co_await test::wait_until([&] { return probe.availability.size() == 2; }));
        send(*pty, "FPV5-000305\r");
        CHECK(co_await test::wait_until([&] { return probe.reads.size() == 5; }));
        probe.scanner.stop();
        CHECK(co_await test::wait_until([&] { return probe.done; }));
    });
    REQUIRE(probe.reads.size() == 5);
    CHECK(probe.reads[0] == scanner::Scan{"FPV5-000301", ""});
    CHECK(probe.reads[1] == scanner::Scan{"FPV5-000302", ""});
    CHECK(probe.reads[2].error == "bad read: byte 0x01 is no barcode character (read 'FPV5000303')");
    CHECK(probe.reads[3].error == "bad read: 'FPV5-0003' came with no suffix after it (set the scanner's suffix to CR)");
    CHECK(probe.reads[4] == scanner::Scan{"FPV5-000305", ""});
    REQUIRE(probe.availability.size() == 2);
    CHECK(probe.availability[0].starts_with("scanner lost: serial:" + link.string() + "?baud=9600: read failed: "));
    CHECK(probe.availability[1] == "");  // back: said once, as the loss was
    std::filesystem::remove_all(dir);
}

TEST_CASE("scanner settings: what a nest can read itself, and why not") {
    CHECK_FALSE(devices::is_scanner_device("jig"));
    CHECK_FALSE(devices::is_scanner_device("page"));
    CHECK(devices::is_scanner_device("serial:/dev/ttyACM0"));
    CHECK_FALSE(devices::scanner_setting_problem("serial:/dev/ttyACM0?baud=9600"));
    CHECK_FALSE(devices::scanner_setting_problem("usb-serial:0c2e:0b61"));
    CHECK_FALSE(devices::scanner_setting_problem("tcp:10.0.0.7:23"));
    CHECK_FALSE(devices::scanner_setting_problem("evdev:/dev/input/by-id/usb-Honeywell-event-kbd"));
    CHECK(devices::scanner_setting_problem("evdev:input/event3") ==
          "'evdev:input/event3': evdev: needs an absolute device path (evdev:/dev/input/by-id/...-event-kbd)");
    CHECK(devices::scanner_setting_problem("usbtmc:0957:1798") == "'usbtmc:0957:1798': a scanner is no USBTMC instrument");
    CHECK(devices::scanner_setting_problem("wedge") ==
          "unknown scanner 'wedge' (jig, page, serial:PATH[?baud=N], usb-serial:VID:PID[:SERIAL], tcp:HOST:PORT, evdev:PATH)");
    CHECK(devices::scanner_setting_problem("hid:/dev/input/event3") ==
          "port 'hid:/dev/input/event3': unknown scheme 'hid' (serial:, tcp:, usb-serial:, usbtmc:)");
}
