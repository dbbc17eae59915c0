// The station's insides, shared by its two source files: station.cpp (the nest's lifecycle:
// start-up, waiting for units, the operator's requests, a lost jig) and unit.cpp (one unit's
// test: power, the plan, the certificate). Private to rig/station.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <deque>
#include <fmt/format.h>
#include <memory>
#include <optional>
#include <string>

#include "rig/devices/drivers.hpp"
#include "rig/devices/esc_dronecan.hpp"
#include "rig/devices/jig.hpp"
#include "rig/devices/scanner.hpp"
#include "rig/sequencer/sequencer.hpp"
#include "rig/station/board.hpp"
#include "rig/station/instruments.hpp"
#include "rig/station/station.hpp"
#include "rig/steps/steps.hpp"

namespace rig::station {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

asio::awaitable<void> pause(milliseconds d);

struct Station::Impl {
    Config cfg;
    archive::Ledger& ledger;
    archive::Writer& writer;
    devices::RunControl control;
    Board board;
    Totals& totals;  // the board's
    bool stopping = false;
    std::string stop_reason;
    bool out_of_service = false;
    std::string service_reason;
    std::string testing;  // the serial under test, "" when none
    std::string jig_lost;  // why the jig stopped answering, "" while it answers
    // The operator's requests: a scan for the next unit, a start, an abort before the start.
    std::string scanned;
    bool waiting_scan = false, waiting_start = false, start_requested = false, scan_arrived = false;
    std::string dropped;  // the unit in the nest was aborted before its test: by whom
    NestState after_unit = NestState::idle;  // shown until the unit is taken out
    std::string after_detail;
    std::uint8_t light = 0;  // the stack light the nest wants shown
    bool light_shown = true;  // the jig acknowledged `light`: if not, it is sent again
    steady_clock::time_point unit_seen_at;  // the unit is in the closed nest with its serial: its cycle starts
    std::unique_ptr<devices::Jig> jig;
    std::unique_ptr<devices::RadioTransmitter> radio;
    std::unique_ptr<devices::EscDronecan> can;  // the jig's CAN adapter, with rig's DroneCAN node
    std::unique_ptr<devices::BarcodeScanner> scanner;  // the nest's own scanner (station.scanner serial:, evdev:, ...)
    std::shared_ptr<bool> scanner_done;  // its reader coroutine has ended
    NestInstruments instruments;  // bench instruments ([instruments.*]), perhaps shared with other nests
    std::deque<std::string> recent;  // the last kRecentLog log lines, for the API
    static constexpr std::size_t kRecentLog = 200;

    Impl(Config c, archive::Ledger& l, archive::Writer& w);

    void log(const std::string& line);
    void say_line(const std::string& line);
    // Operator-facing lines: printable only, flushed as written (a SIGKILL must not eat them).
    template <class... A>
    void say(fmt::format_string<A...> f, A&&... args) {
        say_line(fmt::format(f, std::forward<A>(args)...));
    }

    // station.cpp: the lifecycle
    asio::awaitable<void> show(std::uint8_t lamps);
    asio::awaitable<Result<void>> wait_for(bool want_closed_with_dut);
    asio::awaitable<Result<bool>> wait_operator(bool& ready);
    asio::awaitable<Result<void>> wait_jig(bool want_closed_with_dut);
    asio::awaitable<Result<bool>> wait_jig_operator(bool& ready);
    asio::awaitable<Result<void>> stay_out_of_service();
    asio::awaitable<Result<void>> pause_unless_stopping(milliseconds d);
    asio::awaitable<Result<void>> reconnect_jig(const Error& why);
    Error fixture_mismatch(const std::string& found) const;
    asio::awaitable<Result<Totals>> run();
    asio::awaitable<Result<void>> start_up();
    asio::awaitable<Result<std::optional<std::string>>> unit_serial();
    asio::awaitable<Result<void>> next_unit();
    asio::awaitable<Result<Totals>> run_line();
    std::optional<std::string> barcode_problem(const std::string& serial) const;
    void unit_done(NestState state, std::string detail);
    asio::awaitable<void> drop_unit(const std::string& serial);
    std::optional<std::string> refusal() const;
    void wake();
    Result<void> take_scan(const std::string& serial, const char* source);

    // scanner_feed.cpp: the nest's own barcode scanner
    void start_scanner(asio::any_io_executor ex);
    asio::awaitable<void> stop_scanner();
    void on_scanner_read(const scanner::Scan& read);

    // unit.cpp: one unit
    void on_jig_status(const Result<devices::JigStatus>& status);
    std::shared_ptr<bool> inject_io_stall(asio::any_io_executor ex);
    asio::awaitable<std::pair<std::unique_ptr<devices::FlightController>, std::string>> open_fc(asio::any_io_executor ex);
    asio::awaitable<sequencer::RunOutcome> run_plan(const std::string& serial, devices::FlightController* fc, const std::string& fc_error,
                                                    steps::DutIdentity& dut);
    asio::awaitable<Result<void>> open_can(asio::any_io_executor ex);
    asio::awaitable<Result<void>> test_unit(const std::string& serial);
    void log_timing(const std::string& serial, steady_clock::time_point seen_at, double physical_s);
};

}  // namespace rig::station
