// The nest's own barcode scanner (station.scanner = "serial:...", "usb-serial:...", "tcp:...",
// "evdev:..."): each barcode it reads is a scan of the nest, taken or refused as the page's are.
// A refused or unreadable read shows on the nest's board until a scan is taken; a lost scanner
// shows there too, and the nest keeps taking scans from the page meanwhile.
#include <boost/asio/co_spawn.hpp>

#include "reports/text.hpp"
#include "rig/station/station_impl.hpp"

namespace rig::station {

void Station::Impl::start_scanner(asio::any_io_executor ex) {
    if (!devices::is_scanner_device(cfg.jig.scanner) || scanner) return;
    devices::BarcodeScanner::Events events{
        [this](const scanner::Scan& read) { on_scanner_read(read); },
        [this](const std::string& problem) {
            board.set_scanner_problem(problem);
            if (problem.empty()) say("scanner back");
            else say("SCANNER: {}", problem);
        },
        [this](const std::string& line) { log(line); },
    };
    scanner = std::make_unique<devices::BarcodeScanner>(cfg.jig.scanner, std::move(events));
    scanner_done = std::make_shared<bool>(false);
    asio::co_spawn(ex, scanner->run(), [done = scanner_done](std::exception_ptr) { *done = true; });
}

// Stops the reader and waits for it: it refers to this nest.
asio::awaitable<void> Station::Impl::stop_scanner() {
    if (!scanner) co_return;
    scanner->stop();
    while (!*scanner_done) co_await pause(milliseconds(20));
    scanner.reset();
}

void Station::Impl::on_scanner_read(const scanner::Scan& read) {
    if (!read.ok()) {
        log(fmt::format("event=scan_bad_read source=scanner error=\"{}\"", read.error));
        say("SCAN NOT READ: {}", read.error);
        board.set_scan_notice(read.error);
        return;
    }
    if (auto r = take_scan(read.text, "scanner"); !r) {
        log(fmt::format("event=scan_refused source=scanner serial={} reason=\"{}\"", reports::printable(read.text), r.error().message));
        say("SCAN REFUSED {}: {}", read.text, r.error().message);
        board.set_scan_notice(fmt::format("{}: {}", read.text, r.error().message));
        return;
    }
    say("scanned {}", read.text);
}

}  // namespace rig::station
