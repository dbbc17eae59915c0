// The archive writer's rate: certificates signed (envelope and checkpoint) and committed
// durably (SQLite synchronous=FULL, certificate and checkpoint files synced), from S stations
// each submitting its next certificate as soon as the last is durable, as nests do. Group
// commit (one transaction and one sync per batch) against one commit per certificate.
#include <benchmark/benchmark.h>
#include <condition_variable>
#include <filesystem>
#include <fmt/format.h>
#include <mutex>
#include <unistd.h>

#include "rig/archive/writer.hpp"

using namespace rig;
namespace fs = std::filesystem;

namespace {

// A certificate of a typical unit: 12 steps, 4 measurements each (~6 KiB signed).
reports::Certificate typical(int n) {
    reports::Certificate c;
    c.unit = {fmt::format("FPV5-{:06}", n), "fpv5-bf", "LOT-BENCH"};
    c.station = {"", "JIG-0042", "2099-06-30", "0.1.0", 0, {}};
    c.plan = {"fpv5-bf", std::string(64, 'a')};
    c.started_at = c.finished_at = "2026-11-23T10:00:00.000Z";
    for (int s = 0; s < 12; ++s) {
        reports::StepRecord step{fmt::format("step{}", s), "motors.spin", reports::Verdict::pass, "", c.started_at, 1.5, {}};
        for (int m = 0; m < 4; ++m) step.measurements.push_back({fmt::format("motor{}_rpm", m + 1), 9000.0 + m, "rpm", "[8500, 11500] rpm", "",
                                                                 reports::Verdict::pass, {}});
        c.steps.push_back(std::move(step));
    }
    return c;
}

struct Bench {
    fs::path root;
    std::shared_ptr<archive::Archive> archive;
    std::vector<archive::Ledger> ledgers;

    explicit Bench(int stations) {
        // On disk beside the build, never tmpfs: the syncs are what is measured.
        root = fs::current_path() / fmt::format("bench-archive-{}", ::getpid());
        fs::remove_all(root);
        archive = std::make_shared<archive::Archive>(std::move(*archive::Archive::open(root / "archive.sqlite")));
        auto key = reports::StationKey::generate();
        reports::TrustStore trust;
        for (int s = 0; s < stations; ++s) trust.add({fmt::format("nest-{}", s), key.public_key(), "2026-01-01T00:00:00.000Z", "", "bench"});
        for (int s = 0; s < stations; ++s)
            ledgers.push_back(std::move(*archive::Ledger::open(archive, {root / "archive.sqlite", root / "certificates", root / "checkpoints"},
                                                                 fmt::format("nest-{}", s), key, trust, [](const std::string&) {})));
    }
    ~Bench() {
        ledgers.clear();
        archive.reset();
        fs::remove_all(root);
    }
};

// S stations, each committing `per_station` certificates back to back through one writer. With
// exports = 1 an iteration also waits for every exported file and checkpoint file.
void BM_GroupCommit(benchmark::State& state) {
    const int stations = static_cast<int>(state.range(0));
    const bool with_exports = state.range(1) != 0;
    constexpr int per_station = 16;
    Bench b(stations);
    std::vector<reports::Certificate> certs(static_cast<std::size_t>(stations));
    std::int64_t total = 0;
    archive::Writer writer;
    for (auto _ : state) {
        std::mutex m;
        std::condition_variable cv;
        int done = 0;
        std::vector<int> left(static_cast<std::size_t>(stations), per_station);
        std::function<void(int)> submit = [&](int s) {
            certs[static_cast<std::size_t>(s)] = typical(static_cast<int>(total) + s);
            writer.commit(b.ledgers[static_cast<std::size_t>(s)], certs[static_cast<std::size_t>(s)], [&, s](Result<archive::Committed> c) {
                if (!c) state.SkipWithError(c.error().message.c_str());
                if (--left[static_cast<std::size_t>(s)] > 0 && c) return submit(s);  // on the writer's thread, as a nest would
                std::lock_guard lock(m);
                ++done;
                cv.notify_one();
            });
        };
        for (int s = 0; s < stations; ++s) submit(s);
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return done == stations; });
        if (with_exports) writer.flush_exports();
        total += stations * per_station;
    }
    const auto st = writer.stats();
    state.SetItemsProcessed(total);
    state.counters["certs_per_batch"] = static_cast<double>(st.certificates) / static_cast<double>(std::max<std::uint64_t>(1, st.batches));
}
BENCHMARK(BM_GroupCommit)->ArgNames({"stations", "exports"})->ArgsProduct({{1, 8, 64}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
