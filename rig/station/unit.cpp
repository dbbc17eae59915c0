// One unit's test: instruments and DUT power on, the flight controller found, the plan run with
// the jig's keepalive going, the certificate committed, and only then the verdict shown.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <thread>

#include "reports/certificate.hpp"
#include "reports/text.hpp"
#include "rig/io/watch.hpp"
#include "rig/station/on_writer.hpp"
#include "rig/station/safe_state.hpp"
#include "rig/station/station_impl.hpp"

namespace rig::station {

using namespace std::chrono;
using reports::Verdict;

namespace {

constexpr auto kConnectRetry = milliseconds(100);
constexpr auto kAbortCheck = milliseconds(250);

const char* verdict_word(Verdict v) {
    switch (v) {
    case Verdict::pass: return "PASS";
    case Verdict::fail: return "FAIL";
    case Verdict::error: return "ERROR";
    }
    return "ERROR";
}

}  // namespace

// The jig's watchdog cuts DUT power 500 ms after the last request: from power-on to
// power-off the keepalive runs, whatever the station is doing (opening the FC port that is
// still enumerating, a step, teardown).
void Station::Impl::on_jig_status(const Result<devices::JigStatus>& status) {
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
        if (s.watchdog_tripped) ++totals.watchdog_trips;
        control.abort = true;
        control.abort_reason = "jig reports DUT power cut (watchdog or interlock)";
    }
}


// Test hook (tests/e2e io_stall_*): RIG_INJECT_IO_STALL_MS=N blocks the io thread for N ms,
// 3 s after DUT power-on (during the motor spin), as a hypervisor steal burst or a slow
// kernel read would. Returns the flag that cancels it when the unit ends first.
std::shared_ptr<bool> Station::Impl::inject_io_stall(asio::any_io_executor ex) {
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
asio::awaitable<std::pair<std::unique_ptr<devices::FlightController>, std::string>> Station::Impl::open_fc(asio::any_io_executor ex) {
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

asio::awaitable<sequencer::RunOutcome> Station::Impl::run_plan(const std::string& serial, devices::FlightController* fc,
                                                               const std::string& fc_error, steps::DutIdentity& dut) {
    StationSafeState safe(*jig, fc, radio.get(), can.get(), instruments.psu.get(), [this](const Result<devices::JigStatus>& st) { on_jig_status(st); });
    sequencer::Options opts;
    opts.on_step_start = [this](const plan::StepSpec& spec, std::size_t index) {
        board.step_started(spec.id, spec.kind, static_cast<int>(index) + 1, static_cast<int>(cfg.plan.steps.size()), spec.timeout);
    };
    opts.on_step = [&](const reports::StepRecord& r) {
        board.step_finished(r);
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
asio::awaitable<Result<void>> Station::Impl::open_can(asio::any_io_executor ex) {
    auto bus = co_await devices::EscDronecan::open(ex, cfg.jig.can_port, static_cast<std::uint8_t>(cfg.jig.can_node_id), control,
                                                   [this](const std::string& line) { log(line); });
    if (!bus) co_return bus.error();
    can = std::move(*bus);
    co_return Result<void>{};
}

asio::awaitable<Result<void>> Station::Impl::test_unit(const std::string& serial) {
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
    board.set_serial(serial);
    board.set(NestState::running);

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
        unit_done(NestState::rejected, powered.error().message);
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
        unit_done(NestState::aborted, outcome.abort_reason);
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
    const auto commit_from = steady_clock::now();
    auto committed = co_await commit_durably(writer, ledger, cert);
    const double commit_s = duration<double>(steady_clock::now() - commit_from).count();
    if (!committed) {
        // Nothing is shown as a verdict unless its certificate is durable.
        log(fmt::format("unit={} event=commit_failed error=\"{}\"", serial, committed.error().message));
        say("unit {:<14} NOT CERTIFIED: {}", serial, committed.error().message);
        unit_done(NestState::aborted, "not certified: " + committed.error().message);
        co_await show(jig::light::red | jig::light::amber);
        co_return committed.error();
    }
    const auto& rec = committed->record;
    ++totals.tested;
    if (cert.verdict == Verdict::pass) ++totals.passed;
    else if (cert.verdict == Verdict::fail) ++totals.failed;
    else ++totals.errored;
    // Only now, with the certificate durable, is the verdict shown: on the page as on the light.
    board.verdict(VerdictView{serial, cert.verdict, rec.sequence, rec.sha256, cert.finished_at, outcome.summary, failing_measurements(cert.steps),
                              commit_s});
    after_unit = NestState::verdict;
    after_detail.clear();
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
void Station::Impl::log_timing(const std::string& serial, steady_clock::time_point seen_at, double physical_s) {
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

}  // namespace rig::station
