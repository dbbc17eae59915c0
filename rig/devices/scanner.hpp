// A barcode scanner assigned to one nest, read directly (not through the page): a serial
// scanner (serial:, usb-serial:, or a fixed-mount reader's tcp: port; a barcode per line) or a
// USB HID scanner through evdev (evdev:/dev/input/by-id/...-event-kbd, grabbed exclusively).
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "protocols/scanner/scanner.hpp"

namespace rig::devices {

namespace asio = boost::asio;

// Why `setting` is not a scanner a nest can read directly ("serial:...", "usb-serial:...",
// "tcp:...", "evdev:/dev/input/..."), or nullopt.
std::optional<std::string> scanner_setting_problem(const std::string& setting);
// True for a setting naming a scanner rig reads itself (not "jig" or "page").
bool is_scanner_device(const std::string& setting);

class BarcodeScanner {
public:
    struct Events {
        std::function<void(const scanner::Scan&)> read;  // a barcode, or a bad read
        // The scanner went away (unplugged, a cable cut, it cannot be opened) or came back: a
        // line for the operator; "" when it is back.
        std::function<void(const std::string& problem)> availability;
        std::function<void(const std::string&)> log;  // key=value lines
    };
    // Text with no suffix after it for this long is a bad read (scanners send a barcode whole).
    static constexpr std::chrono::milliseconds kIdle{500};
    static constexpr std::chrono::milliseconds kRetry{1000};  // a lost scanner is opened again this often

    BarcodeScanner(std::string setting, Events events);
    // Reads until stop(): opens the scanner, passes on every read, and when the scanner is
    // lost says so once and opens it again every kRetry. Never fails: a nest without its
    // scanner still takes scans from the page.
    asio::awaitable<void> run();
    void stop() { stop_ = true; }
    bool connected() const { return connected_; }

private:
    asio::awaitable<void> read_until_lost(class ScanSource& source);
    std::string setting_;
    Events events_;
    bool stop_ = false, connected_ = false;
};

}  // namespace rig::devices
