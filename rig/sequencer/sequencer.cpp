#include "rig/sequencer/sequencer.hpp"

#include "reports/text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cmath>
#include <ctime>
#include <fmt/format.h>

namespace rig::sequencer {
using Clock = std::chrono::steady_clock;

std::string iso8601_now() { return reports::utc_now(); }

namespace {

// The backstop for a step that ignores its deadline: one timer per run, not per step. The steps
// run in one child coroutine whose cancellation slot is this signal; arming a step costs a store
// (and a timer re-arm only when its deadline is earlier than the one the timer waits for). When
// the running step's deadline passes, the watchdog emits terminal cancellation: whatever the step
// awaits is cancelled, as the race of every step against its own timer used to do.
// A wait for a shared instrument moves the step's deadline (control.deadline): the watchdog
// moves its own with it when it wakes.
struct Watchdog {
    Watchdog(asio::any_io_executor ex, const devices::RunControl& c, Clock::duration b)
        : timer(ex, Clock::time_point::max()), control(c), backstop(b) {}
    asio::steady_timer timer;
    asio::cancellation_signal signal;
    const devices::RunControl& control;
    Clock::duration backstop;
    std::optional<Clock::time_point> deadline;  // of the running step
    bool fired = false, stopped = false;

    void arm(Clock::time_point d) {
        deadline = d;
        fired = false;
        if (d < timer.expiry()) timer.expires_at(d);  // wakes the watcher, which waits again
    }
    void disarm() { deadline.reset(); }
    void stop() {
        stopped = true;
        timer.cancel();
    }
    static asio::awaitable<void> watch(std::shared_ptr<Watchdog> self) {
        while (!self->stopped) {
            co_await self->timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (self->stopped) break;
            const auto now = Clock::now();
            if (self->deadline && self->control.deadline) self->deadline = std::max(*self->deadline, *self->control.deadline + self->backstop);
            if (self->deadline && now >= *self->deadline) {
                self->fired = true;
                self->deadline.reset();
                self->timer.expires_at(Clock::time_point::max());
                self->signal.emit(asio::cancellation_type::terminal);
            } else {
                self->timer.expires_at(self->deadline.value_or(Clock::time_point::max()));
            }
        }
    }
};

std::string value_text(const reports::Measurement& m) {
    if (!m.text.empty()) return "'" + m.text + "'";
    if (std::isnan(m.value)) return "no value";
    return fmt::format("{:.4g}{}{}", m.value, m.unit.empty() ? "" : " ", m.unit);
}

}  // namespace

reports::StepRecord judge(const plan::StepSpec& spec, const StepOutput& measured_list) {
    const StepOutput& measured = measured_list;
    reports::StepRecord rec;
    rec.id = spec.id;
    rec.kind = spec.kind;
    rec.verdict = Verdict::pass;
    std::vector<std::string> failures;
    rec.measurements.reserve(measured.size() + spec.limits.size());
    for (const auto& m : measured) {
        reports::Measurement out;
        out.name = m.name;
        out.unit = m.unit;
        out.value = m.is_text ? std::nan("") : m.value;
        out.text = m.text;
        out.verdict = Verdict::pass;
        if (const auto* lim = m.limit_key.empty() ? nullptr : spec.limit(m.limit_key)) {
            out.limit = lim->shown.empty() ? lim->describe() : lim->shown;
            out.limit_spec = lim->spec();
            out.verdict = m.is_text ? lim->check(m.text) : lim->check(m.value);
        } else if (!m.is_text && !std::isfinite(m.value) && !m.limit_key.empty()) {
            // A measurement that should have had a value but did not is never a pass.
            out.verdict = Verdict::fail;
            out.limit = "a finite value";
        }
        if (out.verdict == Verdict::fail) {
            rec.verdict = Verdict::fail;
            failures.push_back(fmt::format("{} {} outside {}", out.name, value_text(out), out.limit));
        }
        rec.measurements.push_back(std::move(out));
    }
    // A declared limit that nothing measured fails the step (as OpenHTF fails an unset declared
    // measurement): a limit in the plan is a promise that the unit was checked against it.
    for (const auto& [key, lim] : spec.limits) {
        const bool measured = std::any_of(measured_list.begin(), measured_list.end(), [&](const Measured& m) { return m.limit_key == key; });
        if (measured) continue;
        reports::Measurement missing;
        missing.name = key;
        missing.value = std::nan("");
        missing.unit = lim.unit;
        missing.limit = lim.shown.empty() ? lim.describe() : lim.shown;
        missing.limit_spec = lim.spec();
        missing.verdict = Verdict::fail;
        rec.verdict = Verdict::fail;
        failures.push_back(fmt::format("{} not measured (limit {})", key, missing.limit));
        rec.measurements.push_back(std::move(missing));
    }
    for (std::size_t i = 0; i < failures.size(); ++i) rec.message += (i ? "; " : "") + failures[i];
    return rec;
}

namespace {

asio::awaitable<RunOutcome> run_steps(const plan::Plan& plan, const Registry& registry, SafeState& safe, devices::RunControl& control,
                                      const Options& options, Watchdog& watchdog) {
    RunOutcome out;
    out.steps.reserve(plan.steps.size());
    std::string stop_reason;  // set once a step errors or the run is aborted: later steps do not run

    for (std::size_t index = 0; index < plan.steps.size(); ++index) {
        const auto& spec = plan.steps[index];
        if (stop_reason.empty() && control.abort) {
            out.aborted = true;
            out.abort_reason = control.abort_reason;
            stop_reason = "aborted: " + control.abort_reason;
        }
        reports::StepRecord rec;
        if (!stop_reason.empty()) {
            rec.id = spec.id;
            rec.kind = spec.kind;
            rec.verdict = Verdict::error;
            rec.message = "not run: " + stop_reason;
            rec.started_at = iso8601_now();
            out.steps.push_back(rec);
            if (options.on_step) options.on_step(rec);
            continue;
        }

        if (options.on_step_start) options.on_step_start(spec, index);
        const auto started = Clock::now();
        std::string started_at = iso8601_now();
        control.deadline = started + spec.timeout;
        control.deadline_owner = spec.id;
        control.instrument_wait = {};
        std::optional<Result<StepOutput>> result;
        std::optional<std::string> exception;  // what a step threw
        auto it = registry.find(spec.kind);
        if (it == registry.end()) {
            result.emplace(make_error(Errc::invalid_argument, fmt::format("no implementation for step kind '{}'", spec.kind)));
        } else {
            watchdog.arm(started + spec.timeout + options.backstop);
            // An exception escaping the step becomes its error (and the cancellation the
            // watchdog delivers, an error the timeout replaces below).
            try {
                result.emplace(co_await it->second(spec));
            } catch (const std::exception& e) {
                exception = e.what();
            } catch (...) {
                exception = "unknown exception";
            }
            watchdog.disarm();
            if (watchdog.fired) {
                exception.reset();
                result.emplace(make_error(Errc::timeout, fmt::format("step '{}' timed out after {} ms and was cancelled", spec.id, spec.timeout.count())));
                // Cancellation sticks to the coroutine: clear it, or teardown would be cancelled too.
                co_await asio::this_coro::reset_cancellation_state();
                watchdog.fired = false;
            }
        }
        control.deadline.reset();
        // Motors stop after every step, whatever its outcome.
        auto stopped = co_await safe.after_step();

        if (exception) {
            rec.id = spec.id;
            rec.kind = spec.kind;
            rec.verdict = Verdict::error;
            rec.message = "exception: " + *exception;
        } else if (!*result) {
            rec.id = spec.id;
            rec.kind = spec.kind;
            rec.verdict = Verdict::error;
            rec.message = result->error().message;
            if (result->error().code == Errc::cancelled) {
                out.aborted = true;
                out.abort_reason = control.abort_reason;
            }
        } else {
            rec = judge(spec, **result);
        }
        if (!stopped && rec.verdict != Verdict::error) {
            rec.verdict = Verdict::error;
            rec.message = "could not stop motors after the step: " + stopped.error().message;
        }
        rec.started_at = std::move(started_at);
        rec.duration_s = std::chrono::duration<double>(Clock::now() - started).count();
        rec.instrument_wait_s = std::chrono::duration<double>(control.instrument_wait).count();
        if (rec.verdict == Verdict::error) stop_reason = fmt::format("step '{}' did not complete", spec.id);
        // An abort raised while the step ran (the lid opened, power was cut) voids what it measured.
        if (control.abort && !out.aborted) {
            out.aborted = true;
            out.abort_reason = control.abort_reason;
        }
        if (out.aborted) stop_reason = "aborted: " + out.abort_reason;
        if (options.on_step) options.on_step(rec);
        out.steps.push_back(std::move(rec));
    }
    co_return out;
}

}  // namespace

asio::awaitable<RunOutcome> run(const plan::Plan& plan, const Registry& registry, SafeState& safe,
                                devices::RunControl& control, const Options& options) {
    auto ex = co_await asio::this_coro::executor;
    auto watchdog = std::make_shared<Watchdog>(ex, control, options.backstop);
    asio::co_spawn(ex, Watchdog::watch(watchdog), asio::detached);
    std::optional<RunOutcome> ran;
    std::exception_ptr failed;
    try {
        ran.emplace(co_await asio::co_spawn(ex, run_steps(plan, registry, safe, control, options, *watchdog),
                                            asio::bind_cancellation_slot(watchdog->signal.slot(), asio::use_awaitable)));
    } catch (...) {
        failed = std::current_exception();  // made safe first, then rethrown
    }
    watchdog->stop();
    RunOutcome out = ran ? std::move(*ran) : RunOutcome{};

    auto safe_result = co_await safe.make_safe();
    if (!safe_result) out.safe_state_error = safe_result.error().message;
    if (failed) std::rethrow_exception(failed);

    bool any_fail = false, any_error = false;
    for (const auto& s : out.steps) {
        if (s.verdict == Verdict::fail) {
            any_fail = true;
            if (out.summary.empty()) out.summary = fmt::format("{} ({}): {}", s.kind, s.id, s.message);
        }
        if (s.verdict == Verdict::error) {
            any_error = true;
            if (out.summary.empty()) out.summary = fmt::format("{} ({}): {}", s.kind, s.id, s.message);
        }
    }
    // A limit failure proves the unit bad; an error alone only says it was not proven good.
    out.verdict = any_fail ? Verdict::fail : any_error ? Verdict::error : Verdict::pass;
    if (!out.safe_state_error.empty()) {
        out.verdict = Verdict::error;
        if (out.summary.empty()) out.summary = "safe state not confirmed: " + out.safe_state_error;
    }
    co_return out;
}

}  // namespace rig::sequencer
