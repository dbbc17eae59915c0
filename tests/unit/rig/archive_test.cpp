#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <map>
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

// Every combination of filters (the driving index chosen, the others written +column) selects
// exactly the rows a plain scan selects, in time order with ties in commit order, newest first
// reversed, and pages slice that order. The rows' times are not in commit order (two stations'
// clocks), so an index walked in the wrong order would show.
TEST_CASE("archive filters: any combination selects what a scan selects, in time order") {
    TempDb t;
    auto a = Archive::open(t.file);
    REQUIRE(a);
    std::vector<Record> rows;
    std::map<std::string, std::string> heads;
    std::map<std::string, std::uint64_t> seqs;
    for (int i = 0; i < 120; ++i) {
        Record r = rec(0, "", "SN-" + std::to_string(i % 40));
        r.station = i % 3 ? "line1-1" : "line1-2";
        r.sequence = ++seqs[r.station];
        r.previous_sha256 = heads[r.station];
        r.lot = "LOT-" + std::to_string(i % 4);
        r.variant = i % 2 ? "fpv5-bf" : "icpt-ap";
        r.verdict = i % 7 == 0 ? "fail" : i % 11 == 0 ? "error" : "pass";
        r.created_at = fmt::format("2026-11-{:02}T10:{:02}:00Z", 1 + (i * 37) % 28, i % 60);  // not in commit order
        r.envelope = "{\"n\":" + std::to_string(i) + "}";
        r.sha256 = reports::sha256_hex(r.envelope);
        heads[r.station] = r.sha256;
        REQUIRE(a->append(r));
        r.id = i + 1;
        rows.push_back(r);
    }
    auto scan = [&](const Filter& f) {
        std::vector<Record> out;
        for (const auto& r : rows)
            if ((f.serial.empty() || r.serial == f.serial) && (f.lot.empty() || r.lot == f.lot) && (f.variant.empty() || r.variant == f.variant) &&
                (f.verdict.empty() || r.verdict == f.verdict) && (f.station.empty() || r.station == f.station) &&
                (f.sha256.empty() || r.sha256 == f.sha256) && (f.since.empty() || r.created_at >= f.since) && (f.until.empty() || r.created_at < f.until))
                out.push_back(r);
        std::stable_sort(out.begin(), out.end(), [](const Record& x, const Record& y) { return x.created_at < y.created_at; });
        if (f.newest_first) std::reverse(out.begin(), out.end());
        if (f.offset >= out.size()) return std::vector<std::int64_t>{};
        std::vector<std::int64_t> ids;
        for (std::size_t i = f.offset; i < out.size() && (f.limit == 0 || ids.size() < f.limit); ++i) ids.push_back(out[i].id);
        return ids;
    };
    // The index each combination should walk: the most selective equality's, with the verdict's
    // when a station or a variant is given with one; with none, the time's.
    auto index_for = [](const Filter& f) -> std::string {
        if (!f.serial.empty()) return "certificates_serial";
        if (!f.lot.empty()) return "certificates_lot_time";
        if (!f.station.empty()) return f.verdict.empty() ? "certificates_station_time" : "certificates_station_verdict_time";
        if (!f.variant.empty() && !f.verdict.empty()) return "certificates_variant_verdict_time";
        if (!f.verdict.empty() && f.verdict != "pass") return "certificates_verdict_time";
        if (!f.variant.empty()) return "certificates_variant_time";
        if (!f.verdict.empty()) return "certificates_verdict_time";
        return "certificates_created_at";
    };
    int combinations = 0;
    for (int mask = 0; mask < 128; ++mask) {
        Filter f;
        if (mask & 1) f.serial = "SN-7";
        if (mask & 2) f.lot = "LOT-3";
        if (mask & 4) f.variant = "fpv5-bf";
        if (mask & 8) f.verdict = mask & 64 ? "pass" : "fail";
        if (mask & 16) f.station = "line1-1";
        if (mask & 32) {
            f.since = "2026-11-05";
            f.until = "2026-11-20";
        }
        for (int paging = 0; paging < 3; ++paging) {
            f.newest_first = paging == 1;
            auto plan = a->plan(f);
            REQUIRE(plan);
            INFO("plan: " << *plan);
            CHECK((*plan + " ").find("USING INDEX " + index_for(f) + " ") != std::string::npos);
            CHECK((plan->find("TEMP B-TREE") == std::string::npos) == f.serial.empty());  // in time order along the index (a serial's few rows are sorted)
            f.limit = paging == 2 ? 5 : 0;
            f.offset = paging == 2 ? 2 : 0;
            std::vector<std::int64_t> got;
            REQUIRE(a->each(f, Archive::Read::index, [&](const Record& r) { return got.push_back(r.id), true; }));
            INFO("filter mask " << mask << " paging " << paging);
            CHECK(got == scan(f));
            ++combinations;
        }
        Filter whole = f;
        whole.limit = whole.offset = 0;
        CHECK(*a->count(whole) == scan(whole).size());
    }
    CHECK(combinations == 384);
}
