#include <doctest/doctest.h>

#include <filesystem>
#include <sqlite3.h>
#include <unistd.h>

#include "reports/dsse.hpp"
#include "rig/archive/archive.hpp"

using namespace rig;
using namespace rig::archive;
namespace fs = std::filesystem;

namespace {
struct TempDb {
    fs::path dir = fs::temp_directory_path() / ("rig-archive-" + std::to_string(::getpid()));
    fs::path file = dir / "archive.sqlite";
    TempDb() { fs::remove_all(dir); }
    ~TempDb() { fs::remove_all(dir); }
};
Record rec(std::uint64_t seq, std::string prev, std::string serial) {
    Record r;
    r.station = "line1-3";
    r.sequence = seq;
    r.serial = serial;
    r.variant = "fpv5-bf";
    r.lot = "LOT-A";
    r.verdict = "pass";
    r.created_at = "2026-11-22T10:00:00Z";
    r.envelope = "{\"n\":" + std::to_string(seq) + "}";
    r.sha256 = reports::sha256_hex(r.envelope);
    r.previous_sha256 = std::move(prev);
    return r;
}
}  // namespace

TEST_CASE("archive round trip: append, reopen, query by serial and in order") {
    TempDb t;
    {
        auto a = Archive::open(t.file);
        REQUIRE(a);
        auto h = a->head("line1-3");
        REQUIRE(h);
        CHECK_FALSE(*h);
        auto r1 = rec(1, "", "FPV5-000001");
        REQUIRE(a->append(r1));
        auto r2 = rec(2, r1.sha256, "FPV5-000002");
        REQUIRE(a->append(r2));
    }
    auto a = Archive::open(t.file);
    REQUIRE(a);
    auto all = a->all();
    REQUIRE(all);
    REQUIRE(all->size() == 2);
    CHECK((*all)[1].previous_sha256 == (*all)[0].sha256);
    auto one = a->by_serial("FPV5-000002");
    REQUIRE(one);
    REQUIRE(one->size() == 1);
    CHECK((*one)[0].envelope == "{\"n\":2}");
    CHECK((*a->head("line1-3"))->sequence == 2);
}

TEST_CASE("archive refuses a record that does not continue the chain") {
    TempDb t;
    auto a = Archive::open(t.file);
    REQUIRE(a);
    auto r1 = rec(1, "", "A");
    REQUIRE(a->append(r1));
    auto wrong_prev = a->append(rec(2, std::string(64, '0'), "B"));
    REQUIRE_FALSE(wrong_prev);
    CHECK(wrong_prev.error().message.find("does not continue the chain") != std::string::npos);
    CHECK_FALSE(a->append(rec(3, r1.sha256, "C")));
    CHECK(a->all()->size() == 1);
}

TEST_CASE("archive rows cannot be updated or deleted through SQL") {
    TempDb t;
    {
        auto a = Archive::open(t.file);
        REQUIRE(a);
        REQUIRE(a->append(rec(1, "", "A")));
    }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(t.file.c_str(), &db) == SQLITE_OK);
    char* err = nullptr;
    CHECK(sqlite3_exec(db, "UPDATE certificates SET verdict='fail'", nullptr, nullptr, &err) != SQLITE_OK);
    REQUIRE(err);
    CHECK(std::string(err) == "certificates are append-only");
    sqlite3_free(err);
    CHECK(sqlite3_exec(db, "DELETE FROM certificates", nullptr, nullptr, nullptr) != SQLITE_OK);
    sqlite3_close(db);
}

TEST_CASE("archive open on an unwritable path names the file") {
    auto a = Archive::open("/proc/rig-no-such/archive.sqlite");
    REQUIRE_FALSE(a);
    CHECK(a.error().message.rfind("/proc/rig-no-such/archive.sqlite: open", 0) == 0);
}

TEST_CASE("archive queries by lot, verdict and date range") {
    TempDb t;
    auto a = Archive::open(t.file);
    REQUIRE(a);
    std::string prev;
    for (int i = 1; i <= 4; ++i) {
        auto r = rec(static_cast<std::uint64_t>(i), prev, "S" + std::to_string(i));
        r.lot = i <= 2 ? "LOT-A" : "LOT-B";
        r.verdict = i == 3 ? "fail" : "pass";
        r.created_at = "2026-11-2" + std::to_string(i) + "T10:00:00Z";
        REQUIRE(a->append(r));
        prev = r.sha256;
    }
    Filter lot;
    lot.lot = "LOT-B";
    CHECK(a->query(lot)->size() == 2);
    Filter failed;
    failed.verdict = "fail";
    auto f = a->query(failed);
    REQUIRE(f->size() == 1);
    CHECK((*f)[0].serial == "S3");
    Filter range;
    range.since = "2026-11-22";
    range.until = "2026-11-24";
    auto r = a->query(range);
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].serial == "S2");
    Filter none;
    none.lot = "LOT-A";
    none.verdict = "fail";
    CHECK(a->query(none)->empty());
}
