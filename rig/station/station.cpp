#include "rig/station/station.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <fstream>
#include <regex>

#include "reports/certificate.hpp"
#include "rig/devices/fc_msp.hpp"
#include "rig/devices/jig.hpp"
#include "rig/sequencer/sequencer.hpp"
#include "rig/steps/steps.hpp"

namespace rig::station {

using namespace std::chrono;
using reports::Verdict;

namespace {

constexpr auto kPollPeriod = milliseconds(100);

asio::awaitable<void> pause(milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

class StationSafeState final : public sequencer::SafeState {
public:
    StationSafeState(devices::Jig& jig, devices::FcMsp* fc) : jig_(jig), fc_(fc) {}
    asio::awaitable<Result<void>> after_step() override {
        if (!fc_) co_return Result<void>{};
        auto r = co_await fc_->stop_motors();
        if (!r) fc_unresponsive_ = true;
        co_return r;
    }
    asio::awaitable<Result<void>> make_safe() override {
        // Cutting DUT power stops the motors too, so it is the action that must never be skipped.
        // With a responsive FC the motors are stopped first (a gentler stop); with an FC that
        // already failed to stop them, power goes off at once rather than after more retries.
        std::string problems;
        if (fc_ && !fc_unresponsive_) {
            if (auto r = co_await fc_->stop_motors(); !r) problems = "motors: " + r.error().message;
        }
        auto off = co_await jig_.force_power_off();
        if (!off) problems += (problems.empty() ? "" : "; ") + std::string("DUT power: ") + off.error().message;
        else if (off->dut_power) problems += (problems.empty() ? "" : "; ") + std::string("DUT power still on after SET_DUT_POWER 0");
        if (!problems.empty()) co_return make_error(Errc::io_error, problems);
        co_return Result<void>{};
    }

private:
    devices::Jig& jig_;
    devices::FcMsp* fc_;
    bool fc_unresponsive_ = false;
};

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
    reports::StationKey key;
    archive::Archive& archive;
    devices::RunControl control;
    bool stopping = false;
    std::string stop_reason;
    std::unique_ptr<devices::Jig> jig;
    asio::thread_pool pool{1};  // signing and SQLite commits: off the io thread
    Totals totals;

    Impl(Config c, reports::StationKey k, archive::Archive& a) : cfg(std::move(c)), key(std::move(k)), archive(a) {}

    void log(const std::string& line) { fmt::print(stderr, "station={} {}\n", cfg.jig.station_id, line); }

    asio::awaitable<Result<void>> wait_for(bool want_closed_with_dut) {
        for (;;) {
            if (stopping) co_return make_error(Errc::cancelled, stop_reason);
            auto s = co_await jig->read_lid();
            if (!s) co_return s.error();
            if (want_closed_with_dut ? (s->lid_closed && s->dut_present) : !s->lid_closed) co_return Result<void>{};
            co_await pause(kPollPeriod);
        }
    }

    asio::awaitable<Result<void>> test_unit(const std::string& serial) {
        auto ex = co_await asio::this_coro::executor;
        control = {};
        control.abort = stopping;
        control.abort_reason = stop_reason;
        (void)co_await jig->set_stack_light(jig::light::amber);

        auto powered = co_await jig->set_dut_power(true);
        if (!powered) {
            log(fmt::format("unit={} event=power_on_refused error=\"{}\"", serial, powered.error().message));
            fmt::print("unit {:<14} not tested: {}\n", serial, powered.error().message);
            ++totals.rejected;
            (void)co_await jig->force_power_off();
            (void)co_await jig->set_stack_light(jig::light::red);
            co_return Result<void>{};
        }
        const auto started_at = sequencer::iso8601_now();

        // The FC's USB port appears once the DUT is powered; open it per unit so a port that
        // re-enumerated (or dropped during the previous unit) is found again.
        std::unique_ptr<devices::FcMsp> fc;
        std::string fc_error;
        for (int attempt = 0; attempt < 20 && !fc; ++attempt) {
            auto port = co_await io::open(ex, cfg.jig.fc_port);
            if (port) fc = std::make_unique<devices::FcMsp>(std::move(*port), control);
            else {
                fc_error = port.error().message;
                co_await pause(milliseconds(100));
            }
        }

        bool keepalive_done = false;
        asio::co_spawn(ex, jig->keepalive([this](const Result<devices::JigStatus>& status) {
            if (control.abort) return;
            if (!status) {
                // Without the jig, DUT power cannot be switched: stop now. Its watchdog cuts power.
                control.abort = true;
                control.abort_reason = "jig link lost: " + status.error().message;
                return;
            }
            const auto& s = *status;
            if (!s.lid_closed && !control.abort) {
                control.abort = true;
                control.abort_reason = "lid opened during the test";
            } else if ((s.watchdog_tripped || !s.dut_power) && !control.abort) {
                control.abort = true;
                control.abort_reason = "jig reports DUT power cut (watchdog or interlock)";
            }
        }), [&keepalive_done](std::exception_ptr) { keepalive_done = true; });

        sequencer::RunOutcome outcome;
        steps::DutIdentity dut;
        if (!fc) {
            // No FC port at all: record every step as not run; the unit gets an error certificate.
            StationSafeState safe(*jig, nullptr);
            sequencer::Registry none;
            for (const auto& s : cfg.plan.steps) none[s.kind] = [msg = fc_error](const plan::StepSpec&) -> asio::awaitable<Result<sequencer::StepOutput>> {
                co_return make_error(Errc::not_found, msg);
            };
            outcome = co_await sequencer::run(cfg.plan, none, safe, control);
        } else {
            StationSafeState safe(*jig, fc.get());
            steps::Context ctx{*jig, *fc, control, {}};
            auto registry = steps::make_registry(ctx);
            sequencer::Options opts;
            opts.on_step = [&](const reports::StepRecord& r) {
                log(fmt::format("unit={} step={} kind={} verdict={} duration_s={:.2f}{}", serial, r.id, r.kind, reports::to_string(r.verdict),
                                r.duration_s, r.message.empty() ? "" : fmt::format(" message=\"{}\"", r.message)));
            };
            outcome = co_await sequencer::run(cfg.plan, registry, safe, control, opts);
            dut = ctx.dut;
        }
        jig->stop();
        while (!keepalive_done) co_await pause(milliseconds(5));
        if (!outcome.safe_state_error.empty())
            log(fmt::format("unit={} event=safe_state_unconfirmed error=\"{}\"", serial, outcome.safe_state_error));

        if (outcome.aborted) {
            ++totals.aborted;
            log(fmt::format("unit={} event=aborted reason=\"{}\"", serial, outcome.abort_reason));
            fmt::print("unit {:<14} ABORTED ({}): no certificate issued\n", serial, outcome.abort_reason);
            (void)co_await jig->set_stack_light(jig::light::red | jig::light::amber);
            co_return Result<void>{};
        }

        reports::Certificate cert;
        cert.unit = {serial, cfg.plan.id, cfg.jig.lot};
        cert.verdict = outcome.verdict;
        cert.station = {cfg.jig.station_id, cfg.jig.fixture_id, cfg.jig.calibration_due, cfg.software_version, 0};
        cert.operator_id = cfg.operator_id;
        cert.plan = {cfg.plan.id, cfg.plan.sha256};
        cert.dut = {dut.firmware, dut.board, dut.uid};
        cert.started_at = started_at;
        cert.finished_at = sequencer::iso8601_now();
        cert.steps = std::move(outcome.steps);

        // Sign and commit on the worker thread: an fsync must not stall motor timing elsewhere.
        co_await asio::post(pool, asio::use_awaitable);
        Result<archive::Record> committed = commit(cert);
        co_await asio::post(ex, asio::use_awaitable);
        if (!committed) {
            // Nothing is shown as a verdict unless its certificate is durable.
            log(fmt::format("unit={} event=commit_failed error=\"{}\"", serial, committed.error().message));
            fmt::print("unit {:<14} NOT CERTIFIED: {}\n", serial, committed.error().message);
            (void)co_await jig->set_stack_light(jig::light::red | jig::light::amber);
            co_return committed.error();
        }

        const auto file = cfg.certificate_dir / fmt::format("{}-{}-{:06}.dsse.json", serial, cfg.jig.station_id, committed->sequence);
        {
            std::error_code ec;
            std::filesystem::create_directories(cfg.certificate_dir, ec);
            std::ofstream(file) << committed->envelope << '\n';
        }
        ++totals.tested;
        if (cert.verdict == Verdict::pass) ++totals.passed;
        else if (cert.verdict == Verdict::fail) ++totals.failed;
        else ++totals.errored;
        fmt::print("unit {:<14} {:<5} {}\n", serial, verdict_word(cert.verdict), outcome.summary);
        fmt::print("     certificate #{} sha256 {} {}\n", committed->sequence, committed->sha256.substr(0, 16), file.string());
        std::fflush(stdout);
        (void)co_await jig->set_stack_light(cert.verdict == Verdict::pass ? jig::light::green : jig::light::red);
        if (cert.verdict != Verdict::pass) (void)co_await jig->buzzer(milliseconds(400));
        co_return Result<void>{};
    }

    Result<archive::Record> commit(reports::Certificate& cert) {
        auto head = archive.head(cert.station.id);
        if (!head) return head.error();
        cert.station.sequence = *head ? (*head)->sequence + 1 : 1;
        cert.previous_sha256 = *head ? (*head)->sha256 : "";
        archive::Record rec;
        const auto payload = reports::to_json(cert);
        rec.station = cert.station.id;
        rec.sequence = cert.station.sequence;
        rec.serial = cert.unit.serial;
        rec.variant = cert.unit.variant;
        rec.lot = cert.unit.lot;
        rec.verdict = reports::to_string(cert.verdict);
        rec.created_at = cert.finished_at;
        rec.sha256 = reports::sha256_hex(payload);
        rec.previous_sha256 = cert.previous_sha256;
        rec.envelope = reports::make_envelope(payload, key);
        auto id = archive.append(rec);
        if (!id) return id.error();
        rec.id = *id;
        return rec;
    }

    asio::awaitable<Result<Totals>> run() {
        auto ex = co_await asio::this_coro::executor;
        auto port = co_await io::open(ex, cfg.jig.jig_port);
        if (!port) co_return port.error();
        jig = std::make_unique<devices::Jig>(std::move(*port), control);
        auto id = co_await jig->identify();
        if (!id) co_return make_error(id.error().code, "jig does not answer: " + id.error().message);
        // Start from a known state: whatever the last run left, DUT power is off.
        if (auto off = co_await jig->force_power_off(); !off) co_return off.error();
        (void)co_await jig->set_stack_light(0);
        log(fmt::format("event=ready fixture={} jig_firmware={} variant={} plan_sha256={}", id->fixture_id, id->firmware, cfg.plan.id,
                        cfg.plan.sha256.substr(0, 16)));
        if (id->fixture_id != cfg.jig.fixture_id)
            co_return make_error(Errc::invalid_argument, fmt::format("{}: fixture_id '{}' but the jig on {} is '{}'", cfg.jig.path,
                                                                     cfg.jig.fixture_id, cfg.jig.jig_port, id->fixture_id));

        while (!stopping && (cfg.max_units == 0 || totals.tested + totals.aborted + totals.rejected < cfg.max_units)) {
            if (auto w = co_await wait_for(true); !w) {
                if (w.error().code == Errc::cancelled) break;
                co_return w.error();
            }
            auto barcode = co_await jig->read_barcode();
            if (!barcode) co_return barcode.error();
            const std::string serial = *barcode;
            if (serial.empty() || (cfg.plan.serial_regex && !std::regex_search(serial, std::regex(*cfg.plan.serial_regex)))) {
                ++totals.rejected;
                fmt::print("unit {:<14} not tested: barcode does not match serial_regex '{}' of variant {}\n", serial.empty() ? "(none)" : serial,
                           cfg.plan.serial_regex.value_or(""), cfg.plan.id);
                (void)co_await jig->set_stack_light(jig::light::red);
            } else {
                auto r = co_await test_unit(serial);
                if (!r) co_return r.error();
            }
            // Unload: the operator opens the lid and takes the unit.
            if (auto w = co_await wait_for(false); !w) {
                if (w.error().code == Errc::cancelled) break;
                co_return w.error();
            }
            (void)co_await jig->set_stack_light(0);
        }
        (void)co_await jig->force_power_off();
        co_return totals;
    }
};

Station::Station(Config config, reports::StationKey key, archive::Archive& archive)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(key), archive)) {}
Station::~Station() = default;

asio::awaitable<Result<Totals>> Station::run() { co_return co_await impl_->run(); }

void Station::shutdown(const std::string& reason) {
    impl_->stopping = true;
    impl_->stop_reason = reason;
    impl_->control.abort = true;
    impl_->control.abort_reason = reason;
}

}  // namespace rig::station
