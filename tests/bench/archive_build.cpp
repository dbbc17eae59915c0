// bench_archive_build DIR ROWS [STATIONS]: a factory-scale archive for the query benchmarks
// (bench_query, scripts/bench --archive); an archive already in DIR is only brought up to date
// (rigd's schema: its indexes). Not the station's per-unit commit: certificates are
// signed here and appended with Archive::append_batch, 20,000 to a transaction.
//
// Every row is a real certificate (schema rig.certificate/v1, Ed25519-signed DSSE envelope, its
// station's hash chain continuous, the last checkpoint of every station stored), made compact
// (one step, motors 1 and 3's rpm: an envelope of about 1.6 KB instead of a real unit's 11 KB, two
// rows to a 4 KiB page) so that 10 M of them fit on this machine's disk. The layout, which the benchmarks rely on:
//   - unit u has serial FPV5-{u:08}, lot LOT-{u/1000:05} (1,000 units a lot), variant one of 3;
//   - one unit in 50 fails its motors step and is retested at once (a second row, same serial);
//   - STATIONS stations (default 40) take units in turn; a row every 6 s from 2025-01-01.
// DIR gets archive.sqlite, trust/ (the stations' bindings) and samples.tsv (2,000 rows spread
// over the archive: serial, lot, variant, station, created_at) for the benchmarks to query.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <sqlite3.h>
#include <stdexcept>
#include <thread>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <random>

#include "reports/certificate.hpp"
#include "reports/checkpoint.hpp"
#include "reports/files.hpp"
#include "reports/trust.hpp"
#include "rig/archive/archive.hpp"

using namespace rig;
namespace fs = std::filesystem;

namespace {

constexpr const char* kVariants[] = {"fpv5-bf", "icpt-ap", "canx-px4"};

std::string iso(std::int64_t unix_s) {
    const std::time_t t = unix_s;
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

reports::Measurement ranged(std::string name, double v, double lo, double hi, const char* unit) {
    reports::LimitSpec l;
    l.min = lo;
    l.max = hi;
    l.unit = unit;
    const bool ok = v >= lo && v <= hi;
    return {std::move(name), v, unit, fmt::format("[{}, {}] {}", lo, hi, unit), "", ok ? reports::Verdict::pass : reports::Verdict::fail, l};
}

reports::Certificate unit_certificate(std::uint64_t u, bool weak, const std::string& time, std::mt19937& rng) {
    std::normal_distribution<double> rpm(9800, 120);
    reports::Certificate c;
    c.unit = {fmt::format("FPV5-{:08}", u), kVariants[u % 3], fmt::format("LOT-{:05}", u / 1000)};
    c.station.fixture_id = "JIG-0042";
    c.station.calibration_due = "2027-06-30";
    c.station.software_version = "0.1.0";
    c.operator_id = "bench";
    c.plan = {c.unit.variant, std::string(64, 'a')};
    c.dut = {"BTFL 2026.12.0", "S7X2", fmt::format("0039{:020x}", u), {}};
    c.started_at = c.finished_at = time;
    reports::StepRecord motors{"motors", "motors.spin", reports::Verdict::pass, "", time, 4.4, {}};
    for (int m : {1, 3})
        motors.measurements.push_back(ranged(fmt::format("motor{}.rpm", m), weak && m == 3 ? 7300 : std::round(rpm(rng)), 8500, 11500, "rpm"));
    for (const auto& m : motors.measurements)
        if (m.verdict != reports::Verdict::pass) motors.verdict = reports::Verdict::fail;
    if (motors.verdict == reports::Verdict::fail) motors.message = "motor3.rpm outside [8500, 11500] rpm";
    c.steps = {std::move(motors)};
    c.verdict = c.steps[0].verdict;
    return c;
}

struct Station {
    std::string id;
    reports::StationKey key = reports::StationKey::generate();
    std::uint64_t sequence = 0;
    std::string head;
};

struct Batch {
    std::vector<archive::Record> records;
    std::vector<std::pair<const archive::Record*, std::string>> checkpoints;  // each station's last in the batch
};

// Signs certificates in row order, 20,000 to a batch (the producer thread).
class Maker {
public:
    Maker(std::vector<Station>& stations, std::int64_t t0, std::uint64_t rows, std::ofstream& samples)
        : stations_(stations), t0_(t0), rows_(rows), samples_(samples), sample_every_(std::max<std::uint64_t>(1, rows / 2000)) {}
    bool done() const { return row_ >= rows_; }
    std::uint64_t units() const { return unit_; }

    Batch next() {
        Batch b;
        b.records.reserve(kBatch);
        for (std::size_t i = 0; i < kBatch && row_ < rows_; ++i, ++row_) {
            const bool weak = !retest_ && unit_ % 50 == 7;
            auto& st = stations_[row_ % stations_.size()];
            auto c = unit_certificate(unit_, weak, iso(t0_ + static_cast<std::int64_t>(row_) * 6), rng_);
            c.station.id = st.id;
            c.station.sequence = ++st.sequence;
            c.previous_sha256 = st.head;
            const auto payload = reports::to_json(c);
            archive::Record r{0, st.id, st.sequence, c.unit.serial, c.unit.variant, c.unit.lot, reports::to_string(c.verdict), c.finished_at,
                              reports::sha256_hex(payload), st.head, reports::make_envelope(payload, st.key)};
            st.head = r.sha256;
            if (row_ % sample_every_ == 0) samples_ << r.serial << '\t' << r.lot << '\t' << r.variant << '\t' << r.station << '\t' << r.created_at << '\n';
            b.records.push_back(std::move(r));
            // A failed unit is retested at once; the next unit comes after its retest.
            retest_ = weak;
            if (!weak) ++unit_;
        }
        for (auto& st : stations_)
            for (auto it = b.records.rbegin(); it != b.records.rend(); ++it)
                if (it->station == st.id) {
                    b.checkpoints.emplace_back(&*it, reports::sign_checkpoint({st.id, it->sequence, it->sha256, it->created_at}, st.key));
                    break;
                }
        return b;
    }

private:
    static constexpr std::size_t kBatch = 20000;
    std::vector<Station>& stations_;
    std::int64_t t0_;
    std::uint64_t rows_, row_ = 0, unit_ = 0;
    bool retest_ = false;
    std::ofstream& samples_;
    std::uint64_t sample_every_;
    std::mt19937 rng_{42};
};

// The bulk load: the archive's own schema (Archive::open), its secondary indexes dropped during
// the load and made again by Archive::open at the end, no journal: a loader, not a station.
class Loader {
public:
    explicit Loader(const fs::path& file) {
        if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db_));
        exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-2000000;");
        std::vector<std::string> indexes;  // the schema's own (not the UNIQUE constraints' automatic ones)
        sqlite3_stmt* q = nullptr;
        prepare(q, "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='certificates' AND sql IS NOT NULL");
        while (sqlite3_step(q) == SQLITE_ROW) indexes.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)));
        sqlite3_finalize(q);
        for (const auto& ix : indexes) exec("DROP INDEX " + ix + ";");
        prepare(ins_, "INSERT INTO certificates (station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, envelope)"
                      " VALUES (?,?,?,?,?,?,?,?,?,?)");
        prepare(cp_, "INSERT INTO checkpoints (station, sequence, envelope) VALUES (?,?,?)");
    }
    ~Loader() {
        sqlite3_finalize(ins_);
        sqlite3_finalize(cp_);
        sqlite3_close(db_);
    }
    void load(const Batch& b) {
        exec("BEGIN;");
        for (const auto& r : b.records) {
            int i = 1;
            sqlite3_bind_text(ins_, i++, r.station.c_str(), -1, SQLITE_STATIC);
            sqlite3_bind_int64(ins_, i++, static_cast<sqlite3_int64>(r.sequence));
            for (const std::string* v : {&r.serial, &r.variant, &r.lot, &r.verdict, &r.created_at, &r.sha256, &r.previous_sha256, &r.envelope})
                sqlite3_bind_text(ins_, i++, v->c_str(), -1, SQLITE_STATIC);
            step(ins_);
        }
        for (const auto& [r, envelope] : b.checkpoints) {
            sqlite3_bind_text(cp_, 1, r->station.c_str(), -1, SQLITE_STATIC);
            sqlite3_bind_int64(cp_, 2, static_cast<sqlite3_int64>(r->sequence));
            sqlite3_bind_text(cp_, 3, envelope.c_str(), -1, SQLITE_STATIC);
            step(cp_);
        }
        exec("COMMIT;");
    }

private:
    void exec(const std::string& sql) {
        char* msg = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) throw std::runtime_error(msg ? msg : sql);
    }
    void prepare(sqlite3_stmt*& st, const char* sql) {
        if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db_));
    }
    void step(sqlite3_stmt* st) {
        if (sqlite3_step(st) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
        sqlite3_reset(st);
    }
    sqlite3* db_ = nullptr;
    sqlite3_stmt* ins_ = nullptr;
    sqlite3_stmt* cp_ = nullptr;
};

double since(std::chrono::steady_clock::time_point t) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) try {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_archive_build DIR ROWS [STATIONS]\n");
        return 2;
    }
    const fs::path dir = argv[1];
    const fs::path file = dir / "archive.sqlite";
    const std::uint64_t rows = std::stoull(argv[2]);
    const int n_stations = argc > 3 ? std::stoi(argv[3]) : 40;
    if (fs::exists(file)) {  // built before: bring its schema (the indexes) up to date, as rigd would
        const auto start = std::chrono::steady_clock::now();
        if (auto a = archive::Archive::open(file); !a) throw std::runtime_error(a.error().message);
        std::fprintf(stderr, "bench_archive_build: %s exists; its schema is up to date (%.0f s)\n", file.c_str(), since(start));
        return 0;
    }
    fs::create_directories(dir / "trust");
    if (auto a = archive::Archive::open(file); !a) throw std::runtime_error(a.error().message);
    const std::int64_t t0 = 1735689600;  // 2025-01-01T00:00:00Z
    std::vector<Station> stations(static_cast<std::size_t>(n_stations));
    for (int s = 0; s < n_stations; ++s) {
        auto& st = stations[static_cast<std::size_t>(s)];
        st.id = fmt::format("line{}-{:02}", s / 8 + 1, s % 8 + 1);
        reports::KeyBinding b{st.id, st.key.public_key(), iso(t0 - 86400), "", ""};
        if (auto w = reports::write_file_atomic(dir / "trust" / reports::binding_file_name(st.id, st.key.public_key()), reports::to_text(b), 0644); !w)
            throw std::runtime_error(w.error().message);
    }
    std::ofstream samples(dir / "samples.tsv");
    Maker maker(stations, t0, rows, samples);
    const auto start = std::chrono::steady_clock::now();
    {
        Loader loader(file);
        // One thread signs the next batch while this one loads the last.
        std::mutex m;
        std::condition_variable cv;
        std::deque<Batch> ready;
        bool finished = false;
        std::thread producer([&] {
            while (!maker.done()) {
                auto b = maker.next();
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return ready.size() < 2; });
                ready.push_back(std::move(b));
                cv.notify_all();
            }
            std::lock_guard lock(m);
            finished = true;
            cv.notify_all();
        });
        std::uint64_t loaded = 0, bytes = 0;
        for (;;) {
            Batch b;
            {
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return !ready.empty() || finished; });
                if (ready.empty()) break;
                b = std::move(ready.front());
                ready.pop_front();
                cv.notify_all();
            }
            loader.load(b);
            for (const auto& r : b.records) bytes += r.envelope.size();
            const auto before = loaded;
            loaded += b.records.size();
            if (loaded / 500000 != before / 500000 || loaded == rows)
                std::fprintf(stderr, "bench_archive_build: %llu rows loaded, %.0f s, %.0f rows/s, mean envelope %llu bytes\n",
                             static_cast<unsigned long long>(loaded), since(start), double(loaded) / since(start),
                             static_cast<unsigned long long>(bytes / loaded));
        }
        producer.join();
    }
    const auto indexing = std::chrono::steady_clock::now();
    if (auto a = archive::Archive::open(file); !a) throw std::runtime_error(a.error().message);  // makes the indexes again
    std::fprintf(stderr, "bench_archive_build: %llu rows (%llu units, %d stations) in %s: load %.0f s, indexes %.0f s, %.1f GB\n",
                 static_cast<unsigned long long>(rows), static_cast<unsigned long long>(maker.units()), n_stations, file.c_str(),
                 since(start) - since(indexing), since(indexing), double(fs::file_size(file)) / 1e9);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_archive_build: %s\n", e.what());
    return 1;
}
