#include "rig/station/station.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <fstream>
#include <cstdlib>
#include <regex>
#include <thread>

#include "reports/certificate.hpp"
#include "reports/text.hpp"
#include "rig/devices/drivers.hpp"
#include "rig/devices/esc_dronecan.hpp"
#include "rig/devices/jig.hpp"
#include "rig/io/watch.hpp"
#include "rig/sequencer/sequencer.hpp"
#include "rig/station/instruments.hpp"
#include "rig/station/on_writer.hpp"
#include "rig/station/safe_state.hpp"
#include "rig/steps/steps.hpp"

namespace rig::station {

using namespace std::chrono;
using reports::Verdict;

namespace {

constexpr auto kStatusRecheck = milliseconds(1000);
constexpr auto kConnectRetry = milliseconds(100);
constexpr auto kAbortCheck = milliseconds(250);
constexpr auto kJigRetry = milliseconds(1000);  // a lost jig is asked again this often

asio::awaitable<void> pause(milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

const char* verdict_word(Verdict v) {
    switch (v) {
    case Verdict::pass: return "PASS";
    case Verdict::fail: return "FAIL";
    case Verdict::error: return "ERROR";
    }
    return "ERROR";
}

}  // namespace

struct Station::Impl {
    Config cfg;
    archive::Ledger& ledger;
    archive::Writer& writer;
    devices::RunControl control;
    bool stopping = false;
    std::string stop_reason;
    bool out_of_service = false;
    std::string service_reason;
    std::string testing;  // the serial under test, "" when none
    std::string jig_lost;  // why the jig stopped answering, "" while it answers
    std::uint8_t light = 0;  // the stack light the nest wants shown
    bool light_shown = true;  // the jig acknowledged `light`: if not, it is sent again
    steady_clock::time_point unit_seen_at;  // the lid closed on a unit: its cycle starts
    std::unique_ptr<devices::Jig> jig;
    std::unique_ptr<devices::RadioTransmitter> radio;
    std::unique_ptr<devices::EscDronecan> can;  // the jig's CAN adapter, with rig's DroneCAN node
    NestInstruments instruments;  // bench instruments ([instruments.*]), perhaps shared with other nests
    Totals totals;

    Impl(Config c, archive::Ledger& l, archive::Writer& w)
        : cfg(std::move(c)), ledger(l), writer(w), instruments(cfg.jig, control, [this](const std::string& line) { log(line); }, cfg.instrument_pool) {}

    void log(const std::string& line) { fmt::print(stderr, "station={} {}\n", cfg.jig.station_id, reports::printable(line)); }
    // Operator-facing lines: printable only, flushed as written (a SIGKILL must not eat them).
    template <class... A>
    void say(fmt::format_string<A...> f, A&&... args) {
        fmt::print("{}{}\n", cfg.name_in_output ? cfg.jig.station_id + ": " : "", reports::printable(fmt::format(f, std::forward<A>(args)...)));
        std::fflush(stdout);
    }

    // The stack light is what the operator acts on: one the jig did not acknowledge (a lost
    // frame, a jig busy or lost) is sent again while the nest waits, and after a reconnect.
    asio::awaitable<void> show(std::uint8_t lamps) {
        light = lamps;
        light_shown = static_cast<bool>(co_await jig->set_stack_light(lamps));
    }

    // Reads the status, then waits for the jig's STATUS_CHANGED event; the status is read
    // again when the event comes, and after kStatusRecheck without one (an event lost on the
    // wire, or a version-1 jig that sends none). shutdown() ends the wait at once.
    asio::awaitable<Result<void>> wait_for(bool want_closed_with_dut) {
        for (;;) {
            if (stopping) co_return make_error(Errc::cancelled, stop_reason);
            if (want_closed_with_dut && out_of_service) co_return make_error(Errc::cancelled, "out of service");
            if (!light_shown) co_await show(light);
            auto s = co_await jig->read_lid();
            if (!s) co_return s.error();
            if (want_closed_with_dut ? (s->lid_closed && s->dut_present) : !s->lid_closed) co_return Result<void>{};
            auto e = co_await jig->status_event(kStatusRecheck);
            if (!e && e.error().code != Errc::timeout && e.error().code != Errc::cancelled) co_return e.error();
        }
    }

    // The jig's watchdog cuts DUT power 500 ms after the last request: from power-on to
    // power-off the keepalive runs, whatever the station is doing (opening the FC port that is
    // still enumerating, a step, teardown).
    void on_jig_status(const Result<devices::JigStatus>& status) {
        if (control.abort) return;
        if (!status) {
            // Without the jig, DUT power cannot be switched: stop now. Its watchdog cuts power.
            control.abort = true;
            control.abort_reason = "jig link lost: " + status.error().message;
            return;
        }
        const auto& s = *status;
        if (!s.lid_closed) {
            control.abort = true;
            control.abort_reason = "lid opened during the test";
        } else if (s.watchdog_tripped || !s.dut_power) {
            control.abort = true;
            control.abort_reason = "jig reports DUT power cut (watchdog or interlock)";
        }
    }


    // Test hook (tests/e2e io_stall_*): RIG_INJECT_IO_STALL_MS=N blocks the io thread for N ms,
    // 3 s after DUT power-on (during the motor spin), as a hypervisor steal burst or a slow
    // kernel read would. Returns the flag that cancels it when the unit ends first.
    std::shared_ptr<bool> inject_io_stall(asio::any_io_executor ex) {
        auto done = std::make_shared<bool>(false);
        const char* ms = std::getenv("RIG_INJECT_IO_STALL_MS");
        if (!ms || !*ms) return done;
        const auto stall = milliseconds(std::atol(ms));
        asio::co_spawn(ex, [done, stall, this]() -> asio::awaitable<void> {
            co_await pause(milliseconds(3000));
            if (*done) co_return;
            log(fmt::format("event=injected_io_stall ms={}", stall.count()));
            std::this_thread::sleep_for(stall);
        }, asio::detached);
        return done;
    }

    // A real FC's USB port appears 0.5-1.5 s after power-on: open it when its device node
    // appears (inotify), until the first step's timeout (its boot budget) has passed. A tcp:
    // peer (SITL, a network bridge) gives no such event: a refused connect is retried after
    // kConnectRetry.
    asio::awaitable<std::pair<std::unique_ptr<devices::FlightController>, std::string>> open_fc(asio::any_io_executor ex) {
        const auto budget = cfg.plan.steps.empty() ? milliseconds(3000) : cfg.plan.steps.front().timeout;
        const auto until = steady_clock::now() + budget;
        std::string error;
        for (;;) {
            auto port = co_await io::open(ex, cfg.jig.fc_port);
            if (port) {
                const devices::FcOptions options{cfg.jig.fc_protocol, cfg.jig.acc_1g, cfg.jig.gyro_counts_per_dps, cfg.jig.mag_counts_per_mgauss};
                co_return std::pair{devices::make_flight_controller(ex, std::move(*port), control, options, [this](const std::string& line) { log(line); }),
                                    std::string{}};
            }
            error = port.error().message;
            if (control.abort || steady_clock::now() >= until) break;
            // In slices, so an abort (SIGTERM) is seen within kAbortCheck while nothing appears.
            const auto left = std::min(kAbortCheck, duration_cast<milliseconds>(until - steady_clock::now()) + milliseconds(1));
            auto uri = io::parse_uri(cfg.jig.fc_port);
            if (uri && uri->scheme == io::PortUri::Scheme::serial) co_await io::path_changed(ex, uri->path, left);
            else if (uri && uri->scheme == io::PortUri::Scheme::usb_serial) co_await io::path_changed(ex, "/dev/serial/by-id/usb", left);
            else co_await pause(std::min(left, kConnectRetry));
        }
        co_return std::pair{std::unique_ptr<devices::FlightController>{}, error};
    }

    asio::awaitable<sequencer::RunOutcome> run_plan(const std::string& serial, devices::FlightController* fc, const std::string& fc_error,
                                                    steps::DutIdentity& dut) {
        StationSafeState safe(*jig, fc, radio.get(), can.get(), instruments.psu.get(), [this](const Result<devices::JigStatus>& st) { on_jig_status(st); });
        sequencer::Options opts;
        opts.on_step = [&](const reports::StepRecord& r) {
            log(fmt::format("unit={} step={} kind={} verdict={} duration_s={:.2f}{}{}", serial, r.id, r.kind, reports::to_string(r.verdict),
                            r.duration_s, r.instrument_wait_s > 0 ? fmt::format(" instrument_wait_s={:.3f}", r.instrument_wait_s) : "",
                            r.message.empty() ? "" : fmt::format(" message=\"{}\"", r.message)));
        };
        if (!fc) {
            // No FC port at all: every step errors; the unit gets an error certificate.
            sequencer::Registry none;
            for (const auto& s : cfg.plan.steps) none[s.kind] = [msg = fc_error](const plan::StepSpec&) -> asio::awaitable<Result<sequencer::StepOutput>> {
                co_return make_error(Errc::not_found, msg);
            };
            co_return co_await sequencer::run(cfg.plan, none, safe, control, opts);
        }
        steps::Context ctx{*jig, *fc, radio.get(), can.get(), control, {}};
        ctx.psu = instruments.psu.get();
        ctx.rf = instruments.rf.get();
        ctx.vtx = dynamic_cast<devices::VideoTransmitter*>(fc);
        auto registry = steps::make_registry(ctx);
        auto outcome = co_await sequencer::run(cfg.plan, registry, safe, control, opts);
        dut = ctx.dut;
        co_return outcome;
    }

    // The CAN adapter is the jig's: opened once, and again before a unit when it was lost
    // (unplugged and back). Until it is back, every CAN step errors naming the loss.
    asio::awaitable<Result<void>> open_can(asio::any_io_executor ex) {
        auto bus = co_await devices::EscDronecan::open(ex, cfg.jig.can_port, static_cast<std::uint8_t>(cfg.jig.can_node_id), control,
                                                       [this](const std::string& line) { log(line); });
        if (!bus) co_return bus.error();
        can = std::move(*bus);
        co_return Result<void>{};
    }

    asio::awaitable<Result<void>> test_unit(const std::string& serial) {
        auto ex = co_await asio::this_coro::executor;
        if (can && can->lost()) {
            if (auto r = co_await open_can(ex); !r) log(fmt::format("event=can_reopen_failed error=\"{}\"", r.error().message));
            else log("event=can_reopened");
        }
        if (auto r = co_await instruments.open(ex, true); !r) log(fmt::format("event=instrument_reopen_failed error=\"{}\"", r.error().message));
        const auto seen_at = unit_seen_at;
        control = {};
        control.abort = stopping;
        control.abort_reason = stop_reason;
        co_await show(jig::light::amber);

        // Every instrument the jig file names must be there: a unit is never tested without one.
        Result<devices::JigStatus> powered = make_error(Errc::not_found, "");
        Result<void> supply_on;
        if (instruments.psu) supply_on = co_await instruments.psu->output(true);  // (no co_await inside ?: with g++ 12)
        // A station left running past a calibration date stops certifying on that date.
        if (auto expired = expired_calibration(cfg.jig, today_utc()); !expired.empty()) powered = make_error(Errc::invalid_argument, expired);
        else if (auto missing = instruments.missing(); !missing.empty()) powered = make_error(Errc::not_found, missing);
        else if (!supply_on) powered = supply_on.error();
        else powered = co_await jig->set_dut_power(true);
        if (!powered) {
            log(fmt::format("unit={} event=power_on_refused error=\"{}\"", serial, powered.error().message));
            say("unit {:<14} not tested: {}", serial, powered.error().message);
            ++totals.rejected;
            (void)co_await jig->force_power_off();
            co_await show(jig::light::red);
            co_return Result<void>{};
        }
        jig->start_keepalive([this](const Result<devices::JigStatus>& status) { on_jig_status(status); });
        jig->start_backup_heartbeat();
        auto stall = inject_io_stall(ex);
        const auto physical_from = steady_clock::now();
        if (instruments.psu)
            if (auto r = co_await instruments.psu->capture_inrush(milliseconds(instruments.inrush_window_ms())); !r)
                log(fmt::format("unit={} event=inrush_not_captured error=\"{}\"", serial, r.error().message));
        const auto started_at = sequencer::iso8601_now();
        auto [fc, fc_error] = co_await open_fc(ex);
        // Until here the time was physical: the inrush window and the FC enumerating on USB.
        const auto physical_before_steps = steady_clock::now() - physical_from;
        steps::DutIdentity dut;
        auto outcome = co_await run_plan(serial, fc.get(), fc_error, dut);
        *stall = true;
        jig->stop_keepalive();
        jig->stop_backup_heartbeat();
        if (!outcome.safe_state_error.empty())
            log(fmt::format("unit={} event=safe_state_unconfirmed error=\"{}\"", serial, outcome.safe_state_error));

        if (outcome.aborted) {
            ++totals.aborted;
            log(fmt::format("unit={} event=aborted reason=\"{}\"", serial, outcome.abort_reason));
            say("unit {:<14} ABORTED ({}): no certificate issued", serial, outcome.abort_reason);
            co_await show(jig::light::red | jig::light::amber);
            co_return Result<void>{};
        }

        double in_steps_s = 0;
        for (const auto& st : outcome.steps) in_steps_s += st.duration_s;
        reports::Certificate cert;
        cert.unit = {serial, cfg.plan.id, cfg.jig.lot};
        cert.verdict = outcome.verdict;
        cert.station = {cfg.jig.station_id, cfg.jig.fixture_id, cfg.jig.calibration_due, cfg.software_version, 0, instruments.identities()};
        cert.operator_id = cfg.operator_id;
        cert.plan = {cfg.plan.id, cfg.plan.sha256};
        cert.dut = {dut.firmware, dut.board, dut.uid, std::move(dut.parts)};
        cert.started_at = started_at;
        cert.finished_at = sequencer::iso8601_now();
        cert.steps = std::move(outcome.steps);

        // Sign and commit on the writer's thread, and come back to the io thread only with the
        // result: an fsync must not stall the heartbeat or another nest's motor timing.
        auto committed = co_await commit_durably(writer, ledger, cert);
        if (!committed) {
            // Nothing is shown as a verdict unless its certificate is durable.
            log(fmt::format("unit={} event=commit_failed error=\"{}\"", serial, committed.error().message));
            say("unit {:<14} NOT CERTIFIED: {}", serial, committed.error().message);
            co_await show(jig::light::red | jig::light::amber);
            co_return committed.error();
        }
        const auto& rec = committed->record;
        ++totals.tested;
        if (cert.verdict == Verdict::pass) ++totals.passed;
        else if (cert.verdict == Verdict::fail) ++totals.failed;
        else ++totals.errored;
        say("unit {:<14} {:<5} {}", serial, verdict_word(cert.verdict), outcome.summary);
        say("     certificate #{} sha256 {} {}", rec.sequence, rec.sha256.substr(0, 16), committed->file.string());
        log_timing(serial, seen_at, duration<double>(physical_before_steps).count() + in_steps_s);
        co_await show(cert.verdict == Verdict::pass ? jig::light::green : jig::light::red);
        if (cert.verdict != Verdict::pass) (void)co_await jig->buzzer(milliseconds(400));
        co_return Result<void>{};
    }

    // Where the unit's time went, from the unit seen in the closed nest to its verdict shown:
    // physical time (the inrush window, the FC enumerating, the steps, which talk to the DUT and
    // dwell as the plan says) and the controller's overhead (barcode, power-on, opening ports,
    // teardown between steps, signing and the durable commit). Campaigns report both.
    void log_timing(const std::string& serial, steady_clock::time_point seen_at, double physical_s) {
        const double cycle_s = duration<double>(steady_clock::now() - seen_at).count();
        const double overhead_s = std::max(0.0, cycle_s - physical_s);
        std::string hist;  // dwells per lateness bucket (RunControl::kDwellLateBoundsMs)
        for (const int n : control.dwell_late_hist) {
            if (!hist.empty()) hist += ',';
            hist += std::to_string(n);
        }
        log(fmt::format("unit={} event=unit_timing cycle_s={:.4f} physical_s={:.4f} overhead_s={:.4f} overhead_pct={:.3f} dwells={} "
                        "dwell_late_max_ms={:.3f} dwell_late_hist={}",
                        serial, cycle_s, physical_s, overhead_s, physical_s > 0 ? 100 * overhead_s / physical_s : 0.0, control.dwells,
                        duration<double, std::milli>(control.dwell_late_max).count(), hist));
    }

    // A barcode is outside input: it becomes a file name, a log field and a certificate field.
    std::optional<std::string> barcode_problem(const std::string& serial) const {
        if (auto why = reports::id_problem(serial)) return "barcode " + *why;
        if (cfg.plan.serial_regex && !std::regex_search(serial, std::regex(*cfg.plan.serial_regex)))
            return fmt::format("barcode does not match serial_regex '{}' of variant {}", *cfg.plan.serial_regex, cfg.plan.id);
        return std::nullopt;
    }

    // Out of service: the stack light shows amber alone, and the nest takes no unit (one loaded
    // meanwhile waits) until it is back in service or rigd stops.
    asio::awaitable<Result<void>> stay_out_of_service() {
        log(fmt::format("event=out_of_service reason=\"{}\"", service_reason));
        say("OUT OF SERVICE: {}", service_reason);
        co_await show(jig::light::amber);
        while (out_of_service && !stopping) {
            co_await pause(kAbortCheck);
            // The jig is still watched: a lost jig is found now, not when service resumes.
            if (auto s = co_await jig->read_lid(); !s)
                if (auto r = co_await reconnect_jig(s.error()); !r) co_return r;
        }
        if (stopping) co_return Result<void>{};
        log("event=in_service");
        say("back in service");
        co_await show(0);
        co_return Result<void>{};
    }

    // Sleeps for d, or less when rigd stops meanwhile (checked every kAbortCheck).
    asio::awaitable<Result<void>> pause_unless_stopping(milliseconds d) {
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
    asio::awaitable<Result<void>> reconnect_jig(const Error& why) {
        auto ex = co_await asio::this_coro::executor;
        jig_lost = why.message;
        log(fmt::format("event=jig_lost error=\"{}\"", why.message));
        say("JIG LOST: {}; waiting for it to answer again", why.message);
        const auto since = steady_clock::now();
        bool reopen = why.code == Errc::io_error;
        control = {};  // no unit is under test: an aborted unit's control must not refuse the jig's requests
        for (;;) {
            if (auto p = co_await pause_unless_stopping(kJigRetry); !p) co_return p;
            if (reopen || !jig) {
                jig.reset();
                auto port = co_await io::open(ex, cfg.jig.jig_port);
                if (!port) continue;
                jig = std::make_unique<devices::Jig>(ex, std::move(*port), control);
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

    Error fixture_mismatch(const std::string& found) const {
        return make_error(Errc::invalid_argument,
                          fmt::format("{}: fixture_id '{}' but the jig on {} is '{}'", cfg.jig.path, cfg.jig.fixture_id, cfg.jig.jig_port, found));
    }

    // wait_for, carried through a jig that stops answering meanwhile.
    asio::awaitable<Result<void>> wait_jig(bool want_closed_with_dut) {
        for (;;) {
            auto w = co_await wait_for(want_closed_with_dut);
            if (w || w.error().code == Errc::cancelled) co_return w;
            if (auto r = co_await reconnect_jig(w.error()); !r) co_return r;
        }
    }

    // The devices' pumps keep the io_context busy while they exist: close them on every way out.
    asio::awaitable<Result<Totals>> run() {
        auto r = co_await run_line();
        if (instruments.psu) (void)co_await instruments.psu->output(false);
        instruments.close();
        can.reset();
        radio.reset();
        jig.reset();
        co_return r;
    }

    // Opens the jig and the nest's other devices and brings the jig to a known state.
    asio::awaitable<Result<void>> start_up() {
        auto ex = co_await asio::this_coro::executor;
        auto port = co_await io::open(ex, cfg.jig.jig_port);
        if (!port) co_return port.error();
        jig = std::make_unique<devices::Jig>(ex, std::move(*port), control);
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
        // The archive holds a certificate whose copy failed; the copy is retried, and rewritten at start.
        ledger.on_export_failed([this, ex](const std::filesystem::path&, const std::string& error) {
            asio::post(ex, [this, error] { say("     WARNING: certificate committed, but its file copy failed (will retry): {}", error); });
        });
        log(fmt::format("event=ready fixture={} jig_firmware={} variant={} plan_sha256={}", id->fixture_id, id->firmware, cfg.plan.id,
                        cfg.plan.sha256.substr(0, 16)));
        if (id->fixture_id != cfg.jig.fixture_id) co_return fixture_mismatch(id->fixture_id);
        co_return Result<void>{};
    }

    // One unit: wait for it in the closed nest, read its barcode, test it, wait for its unload.
    // A jig that stops answering anywhere here is waited for, never the end of the nest.
    asio::awaitable<Result<void>> next_unit() {
        if (auto w = co_await wait_jig(true); !w) {
            if (w.error().code == Errc::cancelled && out_of_service && !stopping) co_return co_await stay_out_of_service();
            co_return w;
        }
        unit_seen_at = steady_clock::now();
        auto barcode = co_await jig->read_barcode();
        if (!barcode) co_return co_await reconnect_jig(barcode.error());  // then the unit in the nest is read again
        const std::string serial = *barcode;
        if (auto bad = barcode_problem(serial)) {
            ++totals.rejected;
            say("unit {:<14} not tested: {}", serial.empty() ? "(none)" : serial, *bad);
            co_await show(jig::light::red);
        } else {
            std::function<Result<void>()> retry = [this] { return ledger.retry_exports(); };
            if (auto r = co_await on_writer(writer, retry); !r) log(fmt::format("event=export_retry_failed error=\"{}\"", r.error().message));
            testing = serial;
            auto r = co_await test_unit(serial);
            testing.clear();
            if (!r) co_return r;
        }
        // Unload: the operator opens the lid and takes the unit.
        if (auto w = co_await wait_jig(false); !w) co_return w;
        co_await show(0);
        co_return Result<void>{};
    }

    asio::awaitable<Result<Totals>> run_line() {
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
};

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

void Station::shutdown(const std::string& reason) {
    impl_->stopping = true;
    impl_->stop_reason = reason;
    impl_->control.abort = true;
    impl_->control.abort_reason = reason;
    if (impl_->jig) impl_->jig->interrupt_waits(reason);
}

}  // namespace rig::station
