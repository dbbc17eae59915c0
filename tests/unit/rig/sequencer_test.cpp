// The sequencer with fake steps and a fake safe state: every way out of a step must lead
// through after_step (motors stop) and, at the end, make_safe (motors stop, DUT power off).
#include <doctest/doctest.h>

#include <cmath>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "rig/sequencer/sequencer.hpp"

using namespace rig;
using namespace rig::sequencer;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct FakeSafe : SafeState {
    int after_steps = 0, make_safes = 0;
    bool fail_make_safe = false;
    asio::awaitable<Result<void>> after_step() override {
        ++after_steps;
        co_return Result<void>{};
    }
    asio::awaitable<Result<void>> make_safe() override {
        ++make_safes;
        if (fail_make_safe) co_return make_error(Errc::io_error, "jig gone");
        co_return Result<void>{};
    }
};

plan::Plan make_plan(std::vector<std::string> kinds) {
    plan::Plan p;
    p.id = "test";
    int i = 0;
    for (auto& k : kinds) {
        plan::StepSpec s;
        s.id = "s" + std::to_string(++i);
        s.kind = k;
        s.timeout = 200ms;
        plan::Limit lim;
        lim.min = 1.0;
        lim.max = 2.0;
        lim.unit = "V";
        s.limits["v"] = lim;
        p.steps.push_back(s);
    }
    return p;
}

StepFn returns(double v) {
    return [v](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
        co_return StepOutput{{"v", "v", v, "V", "", false, ""}};
    };
}

RunOutcome run_sync(const plan::Plan& p, const Registry& r, FakeSafe& safe, devices::RunControl& control,
                    std::chrono::milliseconds backstop = 1000ms) {
    asio::io_context io;
    RunOutcome out;
    Options opts;
    opts.backstop = backstop;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { out = co_await run(p, r, safe, control, opts); }, asio::detached);
    io.run();
    return out;
}

}  // namespace

TEST_CASE("sequencer: all steps pass, motors stopped after each and the station made safe once") {
    FakeSafe safe;
    devices::RunControl control;
    auto out = run_sync(make_plan({"ok", "ok"}), {{"ok", returns(1.5)}}, safe, control);
    CHECK(out.verdict == Verdict::pass);
    CHECK(out.steps.size() == 2);
    CHECK(safe.after_steps == 2);
    CHECK(safe.make_safes == 1);
    CHECK_FALSE(control.deadline);
}

TEST_CASE("sequencer: a limit failure fails the unit, names the measurement, and later steps still run") {
    FakeSafe safe;
    devices::RunControl control;
    auto out = run_sync(make_plan({"low", "ok"}), {{"low", returns(0.5)}, {"ok", returns(1.0)}}, safe, control);
    CHECK(out.verdict == Verdict::fail);
    CHECK(out.steps[0].verdict == Verdict::fail);
    CHECK(out.steps[0].message == "v 0.5 V outside [1, 2] V");
    CHECK(out.steps[1].verdict == Verdict::pass);
    CHECK(out.summary == "low (s1): v 0.5 V outside [1, 2] V");
    CHECK(safe.after_steps == 2);
    CHECK(safe.make_safes == 1);
}

TEST_CASE("sequencer: NaN never passes a limit") {
    FakeSafe safe;
    devices::RunControl control;
    auto out = run_sync(make_plan({"nan"}), {{"nan", returns(std::nan(""))}}, safe, control);
    CHECK(out.verdict == Verdict::fail);
}

TEST_CASE("sequencer: an exception in a step is recorded, teardown runs, later steps are marked not run") {
    FakeSafe safe;
    devices::RunControl control;
    Registry r{{"boom", [](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
                    throw std::runtime_error("driver bug");
                    co_return StepOutput{};
                }},
               {"ok", returns(1.5)}};
    auto out = run_sync(make_plan({"boom", "ok"}), r, safe, control);
    CHECK(out.verdict == Verdict::error);
    CHECK(out.steps[0].message == "exception: driver bug");
    CHECK(out.steps[1].verdict == Verdict::error);
    CHECK(out.steps[1].message == "not run: step 's1' did not complete");
    CHECK(safe.after_steps == 1);
    CHECK(safe.make_safes == 1);
}

TEST_CASE("sequencer: an exception with an empty message, or not derived from std::exception, is still the step's error") {
    struct Silent : std::exception {
        const char* what() const noexcept override { return ""; }
    };
    FakeSafe safe;
    devices::RunControl control;
    Registry r{{"silent", [](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
                    throw Silent{};
                    co_return StepOutput{};
                }},
               {"odd", [](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
                    throw 42;
                    co_return StepOutput{};
                }}};
    auto out = run_sync(make_plan({"silent"}), r, safe, control);
    CHECK(out.verdict == Verdict::error);
    CHECK(out.steps[0].verdict == Verdict::error);
    CHECK(out.steps[0].message == "exception: ");
    auto odd = run_sync(make_plan({"odd"}), r, safe, control);
    CHECK(odd.steps[0].message == "exception: unknown exception");
    CHECK(safe.make_safes == 2);
}

TEST_CASE("sequencer: a step that ignores its deadline is cancelled by the backstop and teardown runs") {
    FakeSafe safe;
    devices::RunControl control;
    Registry r{{"hang", [](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
        asio::steady_timer t(co_await asio::this_coro::executor, 10s);
        co_await t.async_wait(asio::use_awaitable);
        co_return StepOutput{};
    }}};
    auto out = run_sync(make_plan({"hang"}), r, safe, control, 50ms);
    CHECK(out.verdict == Verdict::error);
    CHECK(out.steps[0].message == "step 's1' timed out after 200 ms and was cancelled");
    CHECK(safe.make_safes == 1);
}

TEST_CASE("sequencer: a step that honours its deadline reports the timeout itself") {
    FakeSafe safe;
    devices::RunControl control;
    Registry r{{"slow", [&control](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
        asio::steady_timer t(co_await asio::this_coro::executor);
        for (;;) {
            auto b = control.budget(20ms);
            if (!b) co_return b.error();
            t.expires_after(*b);
            co_await t.async_wait(asio::use_awaitable);
        }
    }}};
    auto out = run_sync(make_plan({"slow"}), r, safe, control);
    CHECK(out.steps[0].message == "step 's1' timed out");
    CHECK(out.verdict == Verdict::error);
    CHECK(safe.after_steps == 1);
    CHECK(safe.make_safes == 1);
}

TEST_CASE("sequencer: an abort stops the run, marks the rest not run, and still makes the station safe") {
    FakeSafe safe;
    devices::RunControl control;
    Registry r{{"abort", [&control](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
                    control.abort = true;
                    control.abort_reason = "SIGTERM";
                    auto b = control.budget(10ms);
                    co_return b.error();
                }},
               {"ok", returns(1.5)}};
    auto out = run_sync(make_plan({"abort", "ok"}), r, safe, control);
    CHECK(out.aborted);
    CHECK(out.abort_reason == "SIGTERM");
    CHECK(out.steps[1].message == "not run: aborted: SIGTERM");
    CHECK(safe.make_safes == 1);
}

TEST_CASE("sequencer: an abort raised while a step still completes (lid opened) aborts the unit") {
    FakeSafe safe;
    devices::RunControl control;
    Registry r{{"lid", [&control](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
                    control.abort = true;
                    control.abort_reason = "lid opened during the test";
                    co_return StepOutput{{"v", "v", 1.5, "V", "", false, ""}};
                }}};
    // The last step: no later step start would notice the abort.
    auto out = run_sync(make_plan({"lid"}), r, safe, control);
    CHECK(out.aborted);
    CHECK(out.abort_reason == "lid opened during the test");
    CHECK(safe.make_safes == 1);
}

TEST_CASE("sequencer: an unconfirmed safe state turns the verdict into an error") {
    FakeSafe safe;
    safe.fail_make_safe = true;
    devices::RunControl control;
    auto out = run_sync(make_plan({"ok"}), {{"ok", returns(1.5)}}, safe, control);
    CHECK(out.verdict == Verdict::error);
    CHECK(out.safe_state_error == "jig gone");
}

TEST_CASE("sequencer: a step kind without an implementation is an error, not a skip") {
    FakeSafe safe;
    devices::RunControl control;
    auto out = run_sync(make_plan({"nope"}), {}, safe, control);
    CHECK(out.verdict == Verdict::error);
    CHECK(out.steps[0].message == "no implementation for step kind 'nope'");
}

TEST_CASE("judge: a declared limit that the step never measured fails the step as not measured") {
    auto p = make_plan({"k"});
    plan::Limit extra;
    extra.max = 5.0;
    extra.unit = "A";
    p.steps[0].limits["current"] = extra;
    auto rec = judge(p.steps[0], StepOutput{{"v", "v", 1.5, "V", "", false, ""}});
    CHECK(rec.verdict == Verdict::fail);
    CHECK(rec.message == "current not measured (limit <= 5 A)");
    REQUIRE(rec.measurements.size() == 2);
    CHECK(rec.measurements[1].name == "current");
    CHECK(std::isnan(rec.measurements[1].value));
    CHECK(rec.measurements[1].verdict == Verdict::fail);
    // Measured, the same plan passes.
    auto ok = judge(p.steps[0], StepOutput{{"v", "v", 1.5, "V", "", false, ""}, {"current", "current", 2.0, "A", "", false, ""}});
    CHECK(ok.verdict == Verdict::pass);
}

TEST_CASE("judge: every judged measurement carries its limit as data beside the text") {
    auto p = make_plan({"k"});
    auto rec = judge(p.steps[0], StepOutput{{"v", "v", 1.5, "V", "", false, ""}, {"note", "", 3.0, "", "", false, ""}});
    REQUIRE(rec.measurements.size() == 2);
    REQUIRE(rec.measurements[0].limit_spec);
    CHECK(rec.measurements[0].limit == "[1, 2] V");
    CHECK(rec.measurements[0].limit_spec->kind == reports::LimitSpec::Kind::range);
    CHECK(*rec.measurements[0].limit_spec->min == 1.0);
    CHECK(*rec.measurements[0].limit_spec->max == 2.0);
    CHECK(rec.measurements[0].limit_spec->unit == "V");
    CHECK_FALSE(rec.measurements[1].limit_spec);  // recorded only
}

TEST_CASE("sequencer: the backstop follows each step's own deadline, also one earlier than the step before's") {
    FakeSafe safe;
    devices::RunControl control;
    Registry r{{"quick", returns(1.5)},
               {"hang", [](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
                    asio::steady_timer t(co_await asio::this_coro::executor, 60s);
                    co_await t.async_wait(asio::use_awaitable);
                    co_return StepOutput{};
                }}};
    auto p = make_plan({"quick", "hang"});
    p.steps[0].timeout = 60s;  // the watchdog first waits for this one's deadline
    const auto t0 = std::chrono::steady_clock::now();
    auto out = run_sync(p, r, safe, control, 50ms);
    CHECK(std::chrono::steady_clock::now() - t0 < 30s);  // not the first step's 60 s
    REQUIRE(out.steps.size() == 2);
    CHECK(out.steps[0].verdict == Verdict::pass);
    CHECK(out.steps[1].message == "step 's2' timed out after 200 ms and was cancelled");
    CHECK(safe.after_steps == 2);  // teardown ran after the cancelled step: the cancellation did not stick
    CHECK(safe.make_safes == 1);
}
