// One nest's lifecycle: start-up, waiting for a unit and its serial, the operator's requests
// (scan, start, abort, out of service), the unload, and a jig lost and found again. One unit's
// test is unit.cpp.
#include "rig/station/station.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <regex>

#include "reports/text.hpp"
#include "rig/station/on_writer.hpp"
#include "rig/station/station_impl.hpp"

namespace rig::station {

using namespace std::chrono;

namespace {

constexpr auto kStatusRecheck = milliseconds(1000);
constexpr auto kAbortCheck = milliseconds(250);
constexpr auto kJigRetry = milliseconds(1000);  // a lost jig is asked again this often

NestView initial_view(const Config& c) {
    NestView v;
    v.station = c.jig.station_id;
    v.variant = c.plan.id;
    v.lot = c.jig.lot;
    v.plan_sha256 = c.plan.sha256;
    v.scanner = c.jig.scanner;
    v.start = c.jig.start;
    v.serial_pattern = c.plan.serial_regex.value_or("");
    return v;
}

}  // namespace

asio::awaitable<void> pause(milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

Station::Impl::Impl(Config c, archive::Ledger& l, archive::Writer& w)
    : cfg(std::move(c)),
      ledger(l),
      writer(w),
      board(initial_view(cfg), cfg.on_event),
      totals(board.totals()),
      instruments(cfg.jig, control, [this](const std::string& line) { log(line); }, cfg.instrument_pool) {}

void Station::Impl::log(const std::string& line) {
    auto text = reports::printable(line);
    fmt::print(stderr, "station={} {}\n", cfg.jig.station_id, text);
    if (recent.size() == kRecentLog) recent.pop_front();
    recent.push_back(sequencer::iso8601_now() + " " + std::move(text));
}

void Station::Impl::say_line(const std::string& line) {
    fmt::print("{}{}\n", cfg.name_in_output ? cfg.jig.station_id + ": " : "", reports::printable(line));
    std::fflush(stdout);
}

// The stack light is what the operator acts on: one the jig did not acknowledge (a lost
// frame, a jig busy or lost) is sent again while the nest waits, and after a reconnect.
asio::awaitable<void> Station::Impl::show(std::uint8_t lamps) {
    light = lamps;
    light_shown = static_cast<bool>(co_await jig->set_stack_light(lamps));
}

// A request came (a scan, a start, out of service): a nest waiting on its jig looks now.
void Station::Impl::wake() {
    if (jig) jig->interrupt_waits("operator request");
}

// What the board shows while the nest waits: for a unit (idle, or scanned), or for the unit
// just tested to be taken out (its verdict, abort or rejection).
// Reads the status, then waits for the jig's STATUS_CHANGED event; the status is read
// again when the event comes, and after kStatusRecheck without one (an event lost on the
// wire, or a version-1 jig that sends none). shutdown() ends the wait at once.
asio::awaitable<Result<void>> Station::Impl::wait_for(bool want_closed_with_dut) {
    for (;;) {
        if (stopping) co_return make_error(Errc::cancelled, stop_reason);
        if (want_closed_with_dut && out_of_service) co_return make_error(Errc::cancelled, "out of service");
        if (want_closed_with_dut) board.set(scanned.empty() ? NestState::idle : NestState::scanned);
        else board.set(after_unit, after_detail);
        if (!light_shown) co_await show(light);
        auto s = co_await jig->read_lid();
        if (!s) co_return s.error();
        board.set_lid(s->lid_closed, s->dut_present);
        if (want_closed_with_dut ? (s->lid_closed && s->dut_present) : !s->lid_closed) co_return Result<void>{};
        auto e = co_await jig->status_event(kStatusRecheck);
        if (!e && e.error().code != Errc::timeout && e.error().code != Errc::cancelled) co_return e.error();
    }
}

// With the unit in the closed nest, waits for the operator (`ready`: a scan, a start).
// true: ready; false: the unit was taken out first, or dropped by an abort.
asio::awaitable<Result<bool>> Station::Impl::wait_operator(bool& ready) {
    for (;;) {
        if (stopping) co_return make_error(Errc::cancelled, stop_reason);
        if (out_of_service) co_return make_error(Errc::cancelled, "out of service");
        if (!dropped.empty()) co_return false;
        if (ready) co_return true;
        if (!light_shown) co_await show(light);
        auto s = co_await jig->read_lid();
        if (!s) co_return s.error();
        board.set_lid(s->lid_closed, s->dut_present);
        if (!(s->lid_closed && s->dut_present)) co_return false;
        if (ready || !dropped.empty()) continue;
        auto e = co_await jig->status_event(kStatusRecheck);
        if (!e && e.error().code != Errc::timeout && e.error().code != Errc::cancelled) co_return e.error();
    }
}

// A barcode is outside input: it becomes a file name, a log field and a certificate field.
std::optional<std::string> Station::Impl::barcode_problem(const std::string& serial) const {
    if (auto why = reports::id_problem(serial)) return "barcode " + *why;
    if (cfg.plan.serial_regex && !std::regex_search(serial, std::regex(*cfg.plan.serial_regex)))
        return fmt::format("barcode does not match serial_regex '{}' of variant {}", *cfg.plan.serial_regex, cfg.plan.id);
    return std::nullopt;
}

// The unit in the nest was aborted before its test: not tested, no certificate. The stack light
// tells the operator to take it out, as after an abort mid-test.
asio::awaitable<void> Station::Impl::drop_unit(const std::string& serial) {
    log(fmt::format("event=unit_dropped serial={} reason=\"{}\"", serial, dropped));
    say("unit {:<14} not tested: {}", serial, dropped);
    unit_done(NestState::aborted, dropped);
    co_await show(jig::light::red | jig::light::amber);
}

// The unit is not tested, or is done: its state shows until it is taken out.
void Station::Impl::unit_done(NestState state, std::string detail) {
    after_unit = state;
    after_detail = detail;
    board.set(state, std::move(detail));
}

// Out of service: the stack light shows amber alone, and the nest takes no unit (one loaded
// meanwhile waits) until it is back in service or rigd stops.
asio::awaitable<Result<void>> Station::Impl::stay_out_of_service() {
    log(fmt::format("event=out_of_service reason=\"{}\"", service_reason));
    say("OUT OF SERVICE: {}", service_reason);
    board.set(NestState::out_of_service, service_reason);
    co_await show(jig::light::amber);
    while (out_of_service && !stopping) {
        co_await pause(kAbortCheck);
        // The jig is still watched: a lost jig is found now, not when service resumes.
        if (auto s = co_await jig->read_lid(); !s) {
            if (auto r = co_await reconnect_jig(s.error()); !r) co_return r;
            board.set(NestState::out_of_service, service_reason);
        }
    }
    if (stopping) co_return Result<void>{};
    log("event=in_service");
    say("back in service");
    co_await show(0);
    co_return Result<void>{};
}

// Sleeps for d, or less when rigd stops meanwhile (checked every kAbortCheck).
asio::awaitable<Result<void>> Station::Impl::pause_unless_stopping(milliseconds d) {
    for (auto until = steady_clock::now() + d; steady_clock::now() < until;) {
        if (stopping) co_return make_error(Errc::cancelled, stop_reason);
        co_await pause(std::min(kAbortCheck, duration_cast<milliseconds>(until - steady_clock::now()) + milliseconds(1)));
    }
    if (stopping) co_return make_error(Errc::cancelled, stop_reason);
    co_return Result<void>{};
}

// The jig stopped answering: a pulled cable, a jig reset, or a host too loaded to hear it in
// time. Its watchdog cuts DUT power (no request reaches it for 500 ms). The nest waits for
// it, alone: it asks again every kJigRetry, reopening the port when the link itself was
// lost, and once the same fixture answers it switches DUT power off, shows its stack light
// again and goes on where it was. Only shutdown ends the wait (or another fixture answering).
asio::awaitable<Result<void>> Station::Impl::reconnect_jig(const Error& why) {
    auto ex = co_await asio::this_coro::executor;
    jig_lost = why.message;
    log(fmt::format("event=jig_lost error=\"{}\"", why.message));
    say("JIG LOST: {}; waiting for it to answer again", why.message);
    board.set(NestState::jig_lost, why.message);
    const auto since = steady_clock::now();
    bool reopen = why.code == Errc::io_error;
    control = {};  // no unit is under test: an aborted unit's control must not refuse the jig's requests
    for (;;) {
        if (auto p = co_await pause_unless_stopping(kJigRetry); !p) co_return p;
        if (reopen || !jig) {
            jig.reset();
            auto port = co_await io::open(ex, cfg.jig.jig_port);
            if (!port) continue;
            jig = std::make_unique<devices::Jig>(ex, std::move(*port), control, [this](const std::string& line) { log(line); });
        }
        auto id = co_await jig->identify();
        if (!id) {
            reopen = id.error().code == Errc::io_error;
            continue;
        }
        if (id->fixture_id != cfg.jig.fixture_id) co_return fixture_mismatch(id->fixture_id);
        if (auto off = co_await jig->force_power_off(); !off) continue;
        jig_lost.clear();
        light_shown = false;  // the next wait shows it again
        const double after_s = duration<double>(steady_clock::now() - since).count();
        log(fmt::format("event=jig_back after_s={:.1f} jig_firmware={}", after_s, id->firmware));
        say("jig back after {:.1f} s", after_s);
        co_return Result<void>{};
    }
}

Error Station::Impl::fixture_mismatch(const std::string& found) const {
    return make_error(Errc::invalid_argument,
                      fmt::format("{}: fixture_id '{}' but the jig on {} is '{}'", cfg.jig.path, cfg.jig.fixture_id, cfg.jig.jig_port, found));
}

// wait_for, carried through a jig that stops answering meanwhile.
asio::awaitable<Result<void>> Station::Impl::wait_jig(bool want_closed_with_dut) {
    for (;;) {
        auto w = co_await wait_for(want_closed_with_dut);
        if (w || w.error().code == Errc::cancelled) co_return w;
        if (auto r = co_await reconnect_jig(w.error()); !r) co_return r;
    }
}

asio::awaitable<Result<bool>> Station::Impl::wait_jig_operator(bool& ready) {
    for (;;) {
        auto w = co_await wait_operator(ready);
        if (w || w.error().code == Errc::cancelled) co_return w;
        if (auto r = co_await reconnect_jig(w.error()); !r) co_return r.error();
        board.set(NestState::loaded, ready ? "" : "waiting for the operator");
    }
}

// The devices' pumps keep the io_context busy while they exist: close them on every way out.
asio::awaitable<Result<Totals>> Station::Impl::run() {
    auto r = co_await run_line();
    co_await stop_scanner();
    if (instruments.psu) (void)co_await instruments.psu->output(false);
    instruments.close();
    can.reset();
    radio.reset();
    jig.reset();
    board.set(NestState::stopped, r ? "" : r.error().message);
    co_return r;
}

// Opens the jig and the nest's other devices and brings the jig to a known state.
asio::awaitable<Result<void>> Station::Impl::start_up() {
    auto ex = co_await asio::this_coro::executor;
    auto port = co_await io::open(ex, cfg.jig.jig_port);
    if (!port) co_return port.error();
    jig = std::make_unique<devices::Jig>(ex, std::move(*port), control, [this](const std::string& line) { log(line); });
    auto id = co_await jig->identify();
    if (!id) co_return make_error(id.error().code, "jig does not answer: " + id.error().message);
    // Start from a known state: whatever the last run left, DUT power is off.
    if (auto off = co_await jig->force_power_off(); !off) co_return off.error();
    co_await show(0);
    if (!cfg.jig.radio_port.empty()) {
        // The reference transmitter is the jig's, powered with it: open it once.
        auto rport = co_await io::open(ex, cfg.jig.radio_port);
        if (!rport) co_return rport.error();
        radio = devices::make_radio(ex, std::move(*rport), cfg.jig.radio_protocol, [this](const std::string& line) { log(line); });
    }
    if (!cfg.jig.can_port.empty()) {
        auto bus = co_await open_can(ex);
        if (!bus) co_return bus.error();
    }
    if (auto r = co_await instruments.open(ex, false); !r) co_return r.error();
    start_scanner(ex);
    // The archive holds a certificate whose copy failed; the copy is retried, and rewritten at start.
    ledger.on_export_failed([this, ex](const std::filesystem::path&, const std::string& error) {
        asio::post(ex, [this, error] { say("     WARNING: certificate committed, but its file copy failed (will retry): {}", error); });
    });
    log(fmt::format("event=ready fixture={} jig_firmware={} variant={} plan_sha256={}", id->fixture_id, id->firmware, cfg.plan.id,
                    cfg.plan.sha256.substr(0, 16)));
    if (id->fixture_id != cfg.jig.fixture_id) co_return fixture_mismatch(id->fixture_id);
    co_return Result<void>{};
}

// The serial of the unit in the closed nest: a scan made for it, or its barcode read by the
// jig, or (scanner "page") a scan waited for. nullopt: none this time (the unit was taken out
// or dropped, or the jig was lost and found again): the nest looks again.
asio::awaitable<Result<std::optional<std::string>>> Station::Impl::unit_serial() {
    using Serial = std::optional<std::string>;
    if (scanned.empty() && cfg.jig.scanner == "jig") {
        unit_seen_at = steady_clock::now();
        auto barcode = co_await jig->read_barcode();
        if (barcode) co_return Serial(*barcode);
        if (auto r = co_await reconnect_jig(barcode.error()); !r) co_return r.error();
        co_return Serial{};
    }
    if (scanned.empty()) {
        scan_arrived = false;
        waiting_scan = true;
        board.set(NestState::loaded, "waiting for a scan");
        auto w = co_await wait_jig_operator(scan_arrived);
        waiting_scan = false;
        if (!w) co_return w.error();
        if (!*w || scanned.empty()) co_return Serial{};
    }
    unit_seen_at = steady_clock::now();
    std::string serial = std::exchange(scanned, {});
    board.set_scanned("");
    co_return Serial(std::move(serial));
}

// One unit: wait for it in the closed nest, get its serial, wait for the start if the
// operator gives it, test it, wait for its unload. A jig that stops answering anywhere here is
// waited for, never the end of the nest.
asio::awaitable<Result<void>> Station::Impl::next_unit() {
    if (auto w = co_await wait_jig(true); !w) {
        if (w.error().code == Errc::cancelled && out_of_service && !stopping) co_return co_await stay_out_of_service();
        co_return w;
    }
    dropped.clear();
    auto serial_read = co_await unit_serial();
    if (!serial_read) {
        if (serial_read.error().code == Errc::cancelled) co_return Result<void>{};  // stopping, or out of service: the loop sees it
        co_return serial_read.error();
    }
    if (!*serial_read) {
        if (dropped.empty()) co_return Result<void>{};  // taken out before its scan
        co_await drop_unit("(none)");
    } else if (const std::string serial = **serial_read; auto bad = barcode_problem(serial)) {
        ++totals.rejected;
        say("unit {:<14} not tested: {}", serial.empty() ? "(none)" : serial, *bad);
        board.set_serial(serial);
        unit_done(NestState::rejected, *bad);
        co_await show(jig::light::red);
    } else {
        board.set_serial(serial);
        if (cfg.jig.start == "operator") {
            waiting_start = true;
            start_requested = false;
            board.set(NestState::loaded, "waiting for start");
            auto w = co_await wait_jig_operator(start_requested);
            waiting_start = false;
            if (!w && w.error().code == Errc::cancelled) co_return Result<void>{};
            if (!w) co_return w.error();
            if (!*w) {
                if (dropped.empty()) co_return Result<void>{};  // taken out before its start
                co_await drop_unit(serial);
            }
            unit_seen_at = steady_clock::now();
        }
        if (dropped.empty()) {
            std::function<Result<void>()> retry = [this] { return ledger.retry_exports(); };
            if (auto r = co_await on_writer(writer, retry); !r) log(fmt::format("event=export_retry_failed error=\"{}\"", r.error().message));
            testing = serial;
            auto r = co_await test_unit(serial);
            testing.clear();
            if (!r) co_return r;
        }
    }
    // Unload: the operator opens the lid and takes the unit.
    if (auto w = co_await wait_jig(false); !w) co_return w;
    board.set_serial("");
    co_await show(0);
    co_return Result<void>{};
}

asio::awaitable<Result<Totals>> Station::Impl::run_line() {
    if (auto r = co_await start_up(); !r) co_return r.error();
    while (!stopping && (cfg.max_units == 0 || totals.tested + totals.aborted + totals.rejected < cfg.max_units)) {
        auto r = co_await next_unit();
        if (!r && r.error().code == Errc::cancelled) break;
        if (!r) co_return r.error();
    }
    if (jig) (void)co_await jig->force_power_off();
    totals.jig_lost = jig_lost;
    std::function<Result<void>()> retry = [this] {
        writer.flush_exports();
        return ledger.retry_exports();
    };
    if (auto r = co_await on_writer(writer, retry); !r) {
        totals.exports_pending = r.error().message;
        log(fmt::format("event=exports_pending error=\"{}\"", r.error().message));
    }
    co_return totals;
}

Station::Station(Config config, archive::Ledger& ledger, archive::Writer& writer)
    : impl_(std::make_unique<Impl>(std::move(config), ledger, writer)) {}
Station::~Station() = default;

asio::awaitable<Result<Totals>> Station::run() { co_return co_await impl_->run(); }

void Station::set_out_of_service(bool out, const std::string& reason) {
    impl_->out_of_service = out;
    impl_->service_reason = reason;
    // A nest waiting for a unit stops waiting now; one testing finishes its unit first.
    if (out && impl_->jig && impl_->testing.empty()) impl_->jig->interrupt_waits("out of service");
}

std::string Station::status() const {
    const auto& i = *impl_;
    const auto& t = i.totals;
    std::string state = i.stopping                ? "stopping"
                        : !i.jig_lost.empty()      ? "jig lost (" + i.jig_lost + ")"
                        : !i.testing.empty()       ? "testing " + i.testing + (i.out_of_service ? ", then out of service" : "")
                        : i.out_of_service         ? "out of service (" + i.service_reason + ")"
                                                   : "idle";
    return fmt::format("{} {}: {} tested, {} pass, {} fail, {} error, {} aborted, {} not tested", i.cfg.jig.station_id, state, t.tested, t.passed,
                       t.failed, t.errored, t.aborted, t.rejected);
}

NestView Station::view() const { return impl_->board.snapshot(); }

std::vector<std::string> Station::recent_log() const { return {impl_->recent.begin(), impl_->recent.end()}; }

// Why the nest cannot take an operator's request now, or nullopt.
std::optional<std::string> Station::Impl::refusal() const {
    if (stopping) return "nest " + cfg.jig.station_id + " is stopping";
    if (!jig_lost.empty()) return "nest " + cfg.jig.station_id + " has lost its jig: " + jig_lost;
    if (out_of_service) return "nest " + cfg.jig.station_id + " is out of service: " + service_reason;
    return std::nullopt;
}

Result<void> Station::scan(const std::string& serial) { return impl_->take_scan(serial, "api"); }

Result<void> Station::Impl::take_scan(const std::string& serial, const char* source) {
    if (auto no = refusal()) return make_error(Errc::cancelled, *no);
    if (!testing.empty()) return make_error(Errc::cancelled, fmt::format("unit {} is under test: scan the next unit after its verdict", testing));
    if (waiting_start) return make_error(Errc::cancelled, fmt::format("unit {} is in the nest waiting for its start: abort it to scan again", board.raw().serial));
    if (auto bad = barcode_problem(serial)) return make_error(Errc::invalid_argument, *bad);
    scanned = serial;
    if (waiting_scan) scan_arrived = true;
    board.set_scanned(serial);
    board.set_scan_notice("");
    log(fmt::format("event=scan serial={} source={}", serial, source));
    wake();
    return {};
}

Result<void> Station::start() {
    auto& i = *impl_;
    if (auto no = i.refusal()) return make_error(Errc::cancelled, *no);
    const auto& id = i.cfg.jig.station_id;
    if (i.cfg.jig.start != "operator")
        return make_error(Errc::cancelled, fmt::format("nest {} starts when its lid closes on a scanned unit (station.start = \"lid\")", id));
    if (!i.testing.empty()) return make_error(Errc::cancelled, fmt::format("unit {} is already under test", i.testing));
    if (i.waiting_scan) return make_error(Errc::cancelled, "scan the unit's barcode first");
    if (!i.waiting_start) return make_error(Errc::cancelled, fmt::format("nest {}: load the unit and close the lid first", id));
    i.start_requested = true;
    i.log("event=start");
    i.wake();
    return {};
}

Result<void> Station::abort(const std::string& who) {
    auto& i = *impl_;
    const std::string reason = "aborted by " + who;
    if (!i.testing.empty()) {
        if (!i.control.abort) {
            i.control.abort = true;
            i.control.abort_reason = reason;
        }
        i.log(fmt::format("event=abort_request by=\"{}\"", who));
        if (i.jig) i.jig->interrupt_waits(reason);
        return {};
    }
    if (i.waiting_start || i.waiting_scan) {
        i.dropped = reason;
        i.log(fmt::format("event=abort_request by=\"{}\"", who));
        i.wake();
        return {};
    }
    if (!i.scanned.empty()) {
        i.log(fmt::format("event=scan_dropped serial={} by=\"{}\"", i.scanned, who));
        i.scanned.clear();
        i.board.set_scanned("");
        i.wake();
        return {};
    }
    return make_error(Errc::cancelled, fmt::format("nest {} has no unit to abort", i.cfg.jig.station_id));
}

void Station::shutdown(const std::string& reason) {
    impl_->stopping = true;
    impl_->stop_reason = reason;
    impl_->control.abort = true;
    impl_->control.abort_reason = reason;
    impl_->board.set(NestState::stopping, reason);
    if (impl_->jig) impl_->jig->interrupt_waits(reason);
}

}  // namespace rig::station
