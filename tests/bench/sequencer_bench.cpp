// The sequencer's own cost: a plan of N steps that do nothing (each returns one measurement
// judged against a range), and judging 1,000 measurements. Per-step figures are time / steps.
#include <algorithm>
#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "rig/app/allocator.hpp"
#include "rig/sequencer/sequencer.hpp"

using namespace rig;
using namespace rig::sequencer;
namespace asio = boost::asio;

namespace {

double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

struct NoSafe final : SafeState {
    asio::awaitable<Result<void>> after_step() override { co_return Result<void>{}; }
    asio::awaitable<Result<void>> make_safe() override { co_return Result<void>{}; }
};

plan::StepSpec step(int i) {
    plan::StepSpec s;
    s.id = "s";
    s.id += std::to_string(i);
    s.kind = "noop";
    s.timeout = std::chrono::milliseconds(1000);
    plan::Limit lim;
    lim.min = 1.0;
    lim.max = 2.0;
    lim.unit = "V";
    lim.shown = lim.describe();  // as the plan loader does
    s.limits["v"] = lim;
    return s;
}

void BM_SequencerSteps(benchmark::State& state) {
    plan::Plan p;
    for (int i = 0; i < state.range(0); ++i) p.steps.push_back(step(i));
    Registry r{{"noop", [](const plan::StepSpec&) -> asio::awaitable<Result<StepOutput>> {
                    co_return StepOutput{{"v", "v", 1.5, "V", "", false, ""}};
                }}};
    NoSafe safe;
    asio::io_context io;
    for (auto _ : state) {
        devices::RunControl control;
        RunOutcome out;
        asio::co_spawn(io, [&]() -> asio::awaitable<void> { out = co_await run(p, r, safe, control); }, asio::detached);
        io.run();
        io.restart();
        if (out.verdict != Verdict::pass) state.SkipWithError("the plan did not pass");
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.counters["per_step"] = benchmark::Counter(static_cast<double>(state.iterations() * state.range(0)),
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SequencerSteps)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of)->Arg(1)->Arg(100)->Arg(1000);

void BM_Judge1000(benchmark::State& state) {
    auto s = step(0);
    StepOutput measured;
    for (int i = 0; i < 1000; ++i) measured.push_back({std::string("v").append(std::to_string(i)), "v", 1.0 + i / 1000.0, "V", "", false, ""});
    for (auto _ : state) benchmark::DoNotOptimize(judge(s, measured));
    state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Judge1000)->ComputeStatistics("min", min_of)->ComputeStatistics("max", max_of);

}  // namespace

// With rigd's allocator settings: what a unit costs in rigd.
int main(int argc, char** argv) {
    rig::app::keep_freed_memory();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
