// The ledger: numbering, chaining, checkpoints, exports, and refusals at open and at commit.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "reports/checkpoint.hpp"
#include "reports/text.hpp"
#include "reports/verify.hpp"
#include "rig/archive/ledger.hpp"
#include "rig/archive/writer.hpp"

#include <fmt/format.h>
#include <map>
#include <mutex>
#include <thread>

using namespace rig;
namespace fs = std::filesystem;

namespace {
struct Dir {
    fs::path root = fs::temp_directory_path() / ("rig-ledger-" + std::to_string(::getpid()));
    Dir() { fs::remove_all(root); }
    ~Dir() { fs::remove_all(root); }
    archive::LedgerPaths paths() const { return {root / "archive.sqlite", root / "certificates", root / "checkpoints"}; }
};

reports::Certificate unit(const std::string& serial, const std::string& finished) {
    reports::Certificate c;
    c.unit = {serial, "fpv5-bf", "LOT-A"};
    c.verdict = reports::Verdict::pass;
    c.station = {"line1-3", "JIG-0042", "2099-06-30", "0.1.0", 0, {}};
    c.plan = {"fpv5-bf", std::string(64, 'a')};
    c.started_at = finished;
    c.finished_at = finished;
    return c;
}

Result<archive::Ledger> open(const Dir& d, const reports::StationKey& key, std::vector<std::string>* log = nullptr) {
    reports::TrustStore trust;
    trust.add({"line1-3", key.public_key(), "2026-01-01T00:00:00.000Z", "", "test"});
    return archive::Ledger::open(d.paths(), "line1-3", key, trust, [log](const std::string& l) {
        if (log) log->push_back(l);
    });
}
}  // namespace

TEST_CASE("ledger numbers, chains and exports certificates, and refuses a clock that went backwards") {
    Dir d;
    auto key = reports::StationKey::generate();
    auto l = open(d, key);
    REQUIRE(l);
    auto c1 = unit("FPV5-000001", "2026-11-23T10:00:00.000Z");
    auto r1 = l->commit(c1);
    REQUIRE(r1);
    CHECK(r1->record.sequence == 1);
    CHECK(r1->export_error.empty());
    CHECK(fs::exists(d.root / "certificates" / "FPV5-000001-line1-3-000001.dsse.json"));
    auto c2 = unit("FPV5-000002", "2026-11-23T10:01:00.000Z");
    auto r2 = l->commit(c2);
    REQUIRE(r2);
    CHECK(c2.previous_sha256 == r1->record.sha256);
    auto back = unit("FPV5-000003", "2026-11-23T09:00:00.000Z");
    auto r3 = l->commit(back);
    REQUIRE_FALSE(r3);
    CHECK(r3.error().message ==
          "station clock reads 2026-11-23T09:00:00.000Z, before the last certificate's time 2026-11-23T10:01:00.000Z: refusing to certify until the clock is right");
    CHECK(l->head().sequence == 2);
}

TEST_CASE("ledger reopens at the head its last envelope says, and re-exports a missing file") {
    Dir d;
    auto key = reports::StationKey::generate();
    {
        auto l = open(d, key);
        REQUIRE(l);
        auto c = unit("FPV5-000001", "2026-11-23T10:00:00.000Z");
        REQUIRE(l->commit(c));
    }
    fs::remove(d.root / "certificates" / "FPV5-000001-line1-3-000001.dsse.json");
    std::vector<std::string> log;
    auto l = open(d, key, &log);
    REQUIRE(l);
    CHECK(l->head().sequence == 1);
    REQUIRE(log.size() == 1);
    CHECK(log[0].find("event=reexported file=") == 0);
    CHECK(log[0].find("reason=missing") != std::string::npos);
    CHECK(fs::exists(d.root / "certificates" / "FPV5-000001-line1-3-000001.dsse.json"));
}

TEST_CASE("ledger refuses to continue a chain a surviving checkpoint shows was cut") {
    Dir d;
    auto key = reports::StationKey::generate();
    {
        auto l = open(d, key);
        REQUIRE(l);
        auto c = unit("FPV5-000001", "2026-11-23T10:00:00.000Z");
        REQUIRE(l->commit(c));
    }
    // A checkpoint file claiming more than the archive holds (the tail was cut elsewhere).
    const auto cp = reports::sign_checkpoint({"line1-3", 5, std::string(64, 'b'), "2026-11-23T11:00:00.000Z"}, key);
    std::ofstream(d.root / "checkpoints" / "line1-3.checkpoint.json") << cp << "\n";
    auto l = open(d, key);
    REQUIRE_FALSE(l);
    CHECK(l.error().message.find("says station line1-3 reached sequence 5, but the archive ends at 1: certificates 2..5 are missing") !=
          std::string::npos);
}

namespace {
// A station's ledger on an archive several share (one rigd, several nests). The trust store is
// the data directory's: it binds every nest's station.
Result<archive::Ledger> open_station(const Dir& d, std::shared_ptr<archive::Archive> a, const std::string& station,
                                     const reports::StationKey& key) {
    reports::TrustStore trust;
    for (std::string s : {"nest-a", "nest-b", "nest-0", "nest-1", "nest-2", "nest-3", "nest-4", "nest-5", "nest-6", "nest-7"})
        trust.add({s, key.public_key(), "2026-01-01T00:00:00.000Z", "", "test"});
    return archive::Ledger::open(std::move(a), d.paths(), station, key, trust, [](const std::string&) {});
}
}  // namespace

TEST_CASE("group commit: two stations' certificates in one batch each continue their own chain; a refused one leaves the other committed") {
    Dir d;
    auto key = reports::StationKey::generate();
    auto shared = std::make_shared<archive::Archive>(std::move(*archive::Archive::open(d.root / "archive.sqlite")));
    auto a = open_station(d, shared, "nest-a", key);
    auto b = open_station(d, shared, "nest-b", key);
    REQUIRE(a);
    REQUIRE(b);
    auto a1 = unit("FPV5-000001", "2026-11-23T10:00:00.000Z");
    auto b1 = unit("FPV5-000002", "2026-11-23T10:00:00.000Z");
    auto r = archive::Ledger::commit_batch({{&*a, &a1}, {&*b, &b1}});
    REQUIRE(r.size() == 2);
    REQUIRE(r[0]);
    REQUIRE(r[1]);
    CHECK(r[0]->record.station == "nest-a");
    CHECK(r[0]->record.sequence == 1);
    CHECK(r[1]->record.station == "nest-b");
    CHECK(r[1]->record.sequence == 1);
    CHECK(fs::exists(d.root / "certificates" / "FPV5-000002-nest-b-000001.dsse.json"));
    CHECK(fs::exists(d.root / "checkpoints" / "nest-a.checkpoint.json"));
    const auto b1_sha = r[1]->record.sha256;
    // nest-a's clock went backwards: refused alone; nest-b's second certificate commits.
    auto a2 = unit("FPV5-000003", "2026-11-23T09:00:00.000Z");
    auto b2 = unit("FPV5-000004", "2026-11-23T10:05:00.000Z");
    r = archive::Ledger::commit_batch({{&*a, &a2}, {&*b, &b2}});
    REQUIRE(r.size() == 2);
    CHECK_FALSE(r[0]);
    REQUIRE(r[1]);
    CHECK(r[1]->record.sequence == 2);
    CHECK(r[1]->record.previous_sha256 == b1_sha);
    auto rows = shared->all();
    REQUIRE(rows);
    CHECK(rows->size() == 3);
    // Both stations reopen at their own heads, and every envelope verifies.
    auto again = open_station(d, shared, "nest-b", key);
    REQUIRE(again);
    CHECK(again->head().sequence == 2);
    CHECK(again->head().sha256 == r[1]->record.sha256);
}

TEST_CASE("the writer commits queued certificates in batches, one ledger at most once per batch, and runs jobs in order") {
    Dir d;
    auto key = reports::StationKey::generate();
    auto shared = std::make_shared<archive::Archive>(std::move(*archive::Archive::open(d.root / "archive.sqlite")));
    std::vector<archive::Ledger> ledgers;
    for (int s = 0; s < 8; ++s) {
        auto l = open_station(d, shared, "nest-" + std::to_string(s), key);
        REQUIRE(l);
        ledgers.push_back(std::move(*l));
    }
    std::vector<reports::Certificate> certs;
    for (int i = 0; i < 40; ++i) certs.push_back(unit(fmt::format("FPV5-{:06}", i), fmt::format("2026-11-23T10:{:02}:00.000Z", i)));
    std::mutex m;
    std::vector<std::pair<std::string, std::uint64_t>> done;  // station, sequence, in completion order
    int failures = 0;
    std::vector<std::string> order;
    {
        archive::Writer w;
        for (int i = 0; i < 40; ++i)
            w.commit(ledgers[static_cast<std::size_t>(i % 8)], certs[static_cast<std::size_t>(i)], [&](Result<archive::Committed> c) {
                std::lock_guard lock(m);
                if (!c) ++failures;
                else done.emplace_back(c->record.station, c->record.sequence);
            });
        w.run([&] { order.push_back("job"); });
        // The destructor finishes everything queued.
        while (w.stats().certificates < 40) std::this_thread::yield();
        CHECK(w.stats().batches >= 5);   // 5 certificates per ledger: at least 5 batches
        CHECK(w.stats().largest <= 8);   // at most one per ledger
    }
    CHECK(failures == 0);
    REQUIRE(done.size() == 40);
    std::map<std::string, std::uint64_t> last;
    for (const auto& [station, seq] : done) {
        CHECK(seq == last[station] + 1);  // each station's certificates in its own order, no gaps
        last[station] = seq;
    }
    CHECK(order.size() == 1);
    auto rows = shared->all();
    REQUIRE(rows);
    CHECK(rows->size() == 40);
}
