// QA queries on a factory-scale archive (bench_archive_build's, 10 M certificates by default):
// the reads rigctl show and rigctl list make, through the same Archive calls. The archive is
// RIG_BENCH_ARCHIVE_DIR (archive.sqlite, trust/, samples.tsv); each iteration asks for another
// sampled unit, lot, station or time, spread over the whole archive, so the page cache holds
// only what the queries themselves bring in (run scripts/bench --archive after a cold start for
// cold figures). With RIG_BENCH_ARCHIVE_URL (postgresql://…) the same queries go to the factory
// archive holding that archive's rows (scripts/bench --factory loads it), through the same
// archive::Reader calls rigctl makes with --archive postgresql://….
#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "reports/trust.hpp"
#include "rig/archive/archive.hpp"
#include "rig/archive/verified.hpp"
#include "rig/factory/reader.hpp"

using namespace rig;
namespace fs = std::filesystem;

namespace {

struct Sample {
    std::string serial, lot, variant, station, created_at;
};

struct Fixture {
    fs::path dir;
    std::vector<Sample> samples;
    std::unique_ptr<archive::Reader> archive;
    reports::TrustStore trust;
    std::string error;

    Fixture() {
        const char* d = std::getenv("RIG_BENCH_ARCHIVE_DIR");
        if (!d) {
            error = "set RIG_BENCH_ARCHIVE_DIR to a bench_archive_build directory";
            return;
        }
        dir = d;
        std::ifstream in(dir / "samples.tsv");
        for (std::string line; std::getline(in, line);) {
            std::istringstream f(line);
            Sample s;
            std::getline(f, s.serial, '\t');
            std::getline(f, s.lot, '\t');
            std::getline(f, s.variant, '\t');
            std::getline(f, s.station, '\t');
            std::getline(f, s.created_at, '\t');
            samples.push_back(std::move(s));
        }
        const char* url = std::getenv("RIG_BENCH_ARCHIVE_URL");
        auto a = factory::open_reader(url ? std::string(url) : (dir / "archive.sqlite").string());
        if (!a) error = a.error().message;
        else archive = std::move(*a);
        if (auto t = trust.add_directory(dir / "trust"); !t) error = t.error().message;
        if (samples.empty() && error.empty()) error = (dir / "samples.tsv").string() + ": no samples";
    }
    // Spread over the archive: a stride coprime with the sample count.
    const Sample& at(std::size_t i) const { return samples[(i * 7919) % samples.size()]; }
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

// Repetitions report min and max beside Google Benchmark's mean, median and stddev.
void min_max(benchmark::internal::Benchmark* b) {
    b->ComputeStatistics("min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); });
    b->ComputeStatistics("max", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
}

template <class Query>
void run(benchmark::State& state, Query query) {
    auto& f = fixture();
    if (!f.error.empty()) {
        state.SkipWithError(f.error.c_str());
        return;
    }
    std::size_t i = static_cast<std::size_t>(state.range(0)), rows = 0;
    for (auto _ : state) {
        rows += query(*f.archive, f.at(i++), f.trust);
    }
    if (rows == 0) state.SkipWithError("the queries found nothing");
    state.counters["rows_per_query"] = double(rows) / double(std::max<std::int64_t>(1, state.iterations()));
}

// rigctl show SERIAL: the unit's rows with their envelopes (a retested unit has two).
void BM_SerialLookup(benchmark::State& state) {
    run(state, [](archive::Reader& a, const Sample& s, const reports::TrustStore&) {
        archive::Filter f;
        f.serial = s.serial;
        std::size_t n = 0, bytes = 0;
        (void)a.each(f, archive::Reader::Read::envelopes, [&](const archive::Record& r) {
            bytes += r.envelope.size();
            return ++n, true;
        });
        benchmark::DoNotOptimize(bytes);
        return n;
    });
}
BENCHMARK(BM_SerialLookup)->Arg(0)->Unit(benchmark::kMillisecond)->Apply(min_max);

// The same, each row verified as rigctl show does (signature, binding, columns).
void BM_SerialLookupVerified(benchmark::State& state) {
    run(state, [](archive::Reader& a, const Sample& s, const reports::TrustStore& trust) {
        archive::Filter f;
        f.serial = s.serial;
        std::size_t n = 0;
        (void)a.each(f, archive::Reader::Read::envelopes, [&](const archive::Record& r) {
            if (!archive::verify_record(r, trust)) std::abort();
            return ++n, true;
        });
        return n;
    });
}
BENCHMARK(BM_SerialLookupVerified)->Arg(1)->Unit(benchmark::kMillisecond)->Apply(min_max);

// rigctl list --lot L: a lot of 1,000 units (and its retests), index columns only, streamed.
void BM_ListLot(benchmark::State& state) {
    run(state, [](archive::Reader& a, const Sample& s, const reports::TrustStore&) {
        archive::Filter f;
        f.lot = s.lot;
        std::size_t n = 0;
        (void)a.each(f, archive::Reader::Read::index, [&](const archive::Record& r) {
            benchmark::DoNotOptimize(r.sha256.data());
            return ++n, true;
        });
        return n;
    });
}
BENCHMARK(BM_ListLot)->Arg(2)->Unit(benchmark::kMillisecond)->Apply(min_max);

// The rows a filter selects, read from the index as rigctl list reads them.
std::size_t rows_of(archive::Reader& a, const archive::Filter& f) {
    std::size_t n = 0;
    (void)a.each(f, archive::Reader::Read::index, [&](const archive::Record&) { return ++n, true; });
    return n;
}

// rigctl list --since T --limit 1000: 1,000 rows along the time index.
void BM_ListSince1000(benchmark::State& state) {
    run(state, [](archive::Reader& a, const Sample& s, const reports::TrustStore&) {
        archive::Filter f;
        f.since = s.created_at;
        f.limit = 1000;
        return rows_of(a, f);
    });
}
BENCHMARK(BM_ListSince1000)->Arg(3)->Unit(benchmark::kMillisecond)->Apply(min_max);

// rigctl list --verdict fail --since T --limit 1000: the failures since a time.
void BM_ListFailsSince1000(benchmark::State& state) {
    run(state, [](archive::Reader& a, const Sample& s, const reports::TrustStore&) {
        archive::Filter f;
        f.verdict = "fail";
        f.since = s.created_at;
        f.limit = 1000;
        return rows_of(a, f);
    });
}
BENCHMARK(BM_ListFailsSince1000)->Arg(6)->Unit(benchmark::kMillisecond)->Apply(min_max);

// rigctl list --station S --since T --limit 1000: one station's units since a time.
void BM_ListStationSince1000(benchmark::State& state) {
    run(state, [](archive::Reader& a, const Sample& s, const reports::TrustStore&) {
        archive::Filter f;
        f.station = s.station;
        f.since = s.created_at;
        f.limit = 1000;
        return rows_of(a, f);
    });
}
BENCHMARK(BM_ListStationSince1000)->Arg(7)->Unit(benchmark::kMillisecond)->Apply(min_max);

// rigctl list --station S --verdict fail --since MONTH --limit 1000: two equalities that each
// match many rows, together few; the (station, verdict, time) index reads only those.
void BM_ListStationFails1000(benchmark::State& state) {
    run(state, [](archive::Reader& a, const Sample& s, const reports::TrustStore&) {
        archive::Filter f;
        f.station = s.station;
        f.verdict = "fail";
        f.since = s.created_at.substr(0, 7);  // from the sample's month on
        f.limit = 1000;
        return rows_of(a, f);
    });
}
BENCHMARK(BM_ListStationFails1000)->Arg(4)->Unit(benchmark::kMillisecond)->Apply(min_max);

// rigctl list --variant V --verdict fail --since MONTH --limit 1000: a variant's failures, along
// the (variant, verdict, time) index.
void BM_ListVariantFails1000(benchmark::State& state) {
    run(state, [](archive::Reader& a, const Sample& s, const reports::TrustStore&) {
        archive::Filter f;
        f.variant = s.variant;
        f.verdict = "fail";
        f.since = s.created_at.substr(0, 7);
        f.limit = 1000;
        return rows_of(a, f);
    });
}
BENCHMARK(BM_ListVariantFails1000)->Arg(8)->Unit(benchmark::kMillisecond)->Apply(min_max);

// rigctl list --variant V --lot L --verdict pass: three filters on one lot.
void BM_ListVariantLotPass(benchmark::State& state) {
    run(state, [](archive::Reader& a, const Sample& s, const reports::TrustStore&) {
        archive::Filter f;
        f.variant = s.variant;
        f.lot = s.lot;
        f.verdict = "pass";
        return rows_of(a, f);
    });
}
BENCHMARK(BM_ListVariantLotPass)->Arg(5)->Unit(benchmark::kMillisecond)->Apply(min_max);

}  // namespace

BENCHMARK_MAIN();
