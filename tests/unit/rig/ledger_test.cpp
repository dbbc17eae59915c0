// The ledger: numbering, chaining, checkpoints, exports, and refusals at open and at commit.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "reports/checkpoint.hpp"
#include "reports/text.hpp"
#include "reports/verify.hpp"
#include "rig/archive/ledger.hpp"

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
