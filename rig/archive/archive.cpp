#include "rig/archive/archive.hpp"

#include <fmt/format.h>
#include <sqlite3.h>
#include <tuple>

namespace rig::archive {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS certificates (
  id INTEGER PRIMARY KEY,
  station TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  serial TEXT NOT NULL,
  variant TEXT NOT NULL,
  lot TEXT NOT NULL,
  verdict TEXT NOT NULL,
  created_at TEXT NOT NULL,
  sha256 TEXT NOT NULL UNIQUE,
  previous_sha256 TEXT NOT NULL,
  envelope TEXT NOT NULL,
  UNIQUE (station, sequence)
);
CREATE INDEX IF NOT EXISTS certificates_serial ON certificates(serial);
DROP INDEX IF EXISTS certificates_lot;
DROP INDEX IF EXISTS certificates_variant;
DROP INDEX IF EXISTS certificates_verdict;
CREATE INDEX IF NOT EXISTS certificates_lot_time ON certificates(lot, created_at);
CREATE INDEX IF NOT EXISTS certificates_station_time ON certificates(station, created_at);
CREATE INDEX IF NOT EXISTS certificates_variant_time ON certificates(variant, created_at);
CREATE INDEX IF NOT EXISTS certificates_verdict_time ON certificates(verdict, created_at);
CREATE INDEX IF NOT EXISTS certificates_station_verdict_time ON certificates(station, verdict, created_at);
CREATE INDEX IF NOT EXISTS certificates_variant_verdict_time ON certificates(variant, verdict, created_at);
CREATE INDEX IF NOT EXISTS certificates_created_at ON certificates(created_at);
CREATE TABLE IF NOT EXISTS checkpoints (
  id INTEGER PRIMARY KEY,
  station TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  envelope TEXT NOT NULL,
  UNIQUE (station, sequence)
);
CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS certificates_no_update BEFORE UPDATE ON certificates
  BEGIN SELECT RAISE(ABORT, 'certificates are append-only'); END;
CREATE TRIGGER IF NOT EXISTS certificates_no_delete BEFORE DELETE ON certificates
  BEGIN SELECT RAISE(ABORT, 'certificates are append-only'); END;
)sql";

struct Stmt {
    sqlite3_stmt* s = nullptr;
    ~Stmt() { sqlite3_finalize(s); }
};

std::string col_text(sqlite3_stmt* s, int i) {
    auto* p = sqlite3_column_text(s, i);
    return p ? reinterpret_cast<const char*>(p) : "";
}

constexpr const char* kColumns =
    "SELECT id, station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, envelope FROM certificates";
// The same columns with no envelope: an index row, a few hundred bytes.
constexpr const char* kIndexColumns =
    "SELECT id, station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, '' FROM certificates";

// A row of kColumns (or kIndexColumns) into `r`.
void read_record(sqlite3_stmt* s, Record& r) {
    r.id = sqlite3_column_int64(s, 0);
    r.station = col_text(s, 1);
    r.sequence = static_cast<std::uint64_t>(sqlite3_column_int64(s, 2));
    r.serial = col_text(s, 3);
    r.variant = col_text(s, 4);
    r.lot = col_text(s, 5);
    r.verdict = col_text(s, 6);
    r.created_at = col_text(s, 7);
    r.sha256 = col_text(s, 8);
    r.previous_sha256 = col_text(s, 9);
    r.envelope = col_text(s, 10);
}

}  // namespace

struct Archive::Impl {
    sqlite3* db = nullptr;
    fs::path file;
    ~Impl() { sqlite3_close(db); }

    Error err(const std::string& what) const {
        return make_error(Errc::io_error, fmt::format("{}: {}: {}", file.string(), what, sqlite3_errmsg(db)));
    }
    Result<void> exec(const char* sql) {
        char* msg = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
            std::string m = msg ? msg : "unknown error";
            sqlite3_free(msg);
            return make_error(Errc::io_error, fmt::format("{}: {}", file.string(), m));
        }
        return {};
    }
    // Runs `sql` and hands each row to `row` as it is read (false stops); nothing is kept.
    template <class F>
    Result<std::uint64_t> each(const std::string& sql, const std::vector<std::string>& args, F&& row) {
        Stmt st;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) return err("prepare");
        for (std::size_t i = 0; i < args.size(); ++i) sqlite3_bind_text(st.s, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
        std::uint64_t n = 0;
        int rc;
        Record r;
        while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
            read_record(st.s, r);
            ++n;
            if (!row(r)) return n;
        }
        if (rc != SQLITE_DONE) return err("query");
        return n;
    }
    Result<std::vector<Record>> query(const std::string& sql, const std::vector<std::string>& args) {
        std::vector<Record> out;
        auto n = each(sql, args, [&](Record& r) {
            out.push_back(std::move(r));
            return true;
        });
        if (!n) return n.error();
        return out;
    }
};

Archive::Archive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Archive::Archive(Archive&&) noexcept = default;
Archive& Archive::operator=(Archive&&) noexcept = default;
Archive::~Archive() = default;
const fs::path& Archive::path() const { return impl_->file; }

Result<Archive> Archive::open(const fs::path& file) {
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    std::error_code ec;
    if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
    if (sqlite3_open_v2(file.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK)
        return impl->err("open");
    sqlite3_busy_timeout(impl->db, 5000);
    for (const char* pragma : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;", "PRAGMA foreign_keys=ON;"})
        if (auto r = impl->exec(pragma); !r) return r.error();
    if (auto r = impl->exec(kSchema); !r) return r.error();
    return Archive(std::move(impl));
}

Result<Archive> Archive::open_read_only(const fs::path& file) {
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return make_error(Errc::not_found, fmt::format("{}: no such archive", file.string()));
    // mode=ro leaves the file and its journal mode alone; on media where even the shared-memory
    // index cannot be created, immutable=1 reads the file as it is.
    for (const char* options : {"mode=ro", "mode=ro&immutable=1"}) {
        const std::string uri = fmt::format("file:{}?{}", file.string(), options);
        sqlite3_close(impl->db);
        impl->db = nullptr;
        if (sqlite3_open_v2(uri.c_str(), &impl->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) continue;
        sqlite3_busy_timeout(impl->db, 5000);
        if (impl->exec("SELECT count(*) FROM sqlite_master;")) return Archive(std::move(impl));
    }
    // A file that is not SQLite at all was named by mistake: bad input, not an I/O failure.
    auto e = impl->err("open read-only");
    if (impl->db && sqlite3_errcode(impl->db) == SQLITE_NOTADB) e.code = Errc::invalid_argument;
    return e;
}

Result<std::optional<Record>> Archive::last(const std::string& station) {
    auto rows = impl_->query(std::string(kColumns) + " WHERE station=? ORDER BY id DESC LIMIT 1", {station});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<Record>{};
    return std::optional<Record>{std::move(rows->front())};
}

Result<std::vector<std::string>> Archive::checkpoints() {
    Stmt st;
    if (sqlite3_prepare_v2(impl_->db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='checkpoints'", -1, &st.s, nullptr) != SQLITE_OK)
        return impl_->err("prepare");
    if (sqlite3_step(st.s) != SQLITE_ROW) return impl_->err("query");
    std::vector<std::string> out;
    if (sqlite3_column_int(st.s, 0) == 0) return out;  // an archive from before checkpoints
    Stmt q;
    if (sqlite3_prepare_v2(impl_->db, "SELECT envelope FROM checkpoints WHERE id IN (SELECT max(id) FROM checkpoints GROUP BY station)", -1, &q.s,
                           nullptr) != SQLITE_OK)
        return impl_->err("prepare");
    int rc;
    while ((rc = sqlite3_step(q.s)) == SQLITE_ROW) out.push_back(col_text(q.s, 0));
    if (rc != SQLITE_DONE) return impl_->err("query");
    return out;
}

Result<std::uint64_t> Archive::each_after(const std::string& station, std::uint64_t after, std::size_t limit,
                                          const std::function<bool(const Record&, const std::string&)>& row) {
    Stmt st;
    const char* sql =
        "SELECT c.id, c.station, c.sequence, c.serial, c.variant, c.lot, c.verdict, c.created_at, c.sha256, c.previous_sha256, c.envelope,"
        " coalesce(k.envelope, '') FROM certificates c LEFT JOIN checkpoints k ON k.station = c.station AND k.sequence = c.sequence"
        " WHERE c.station = ? AND c.sequence > ? ORDER BY c.sequence LIMIT ?";
    if (sqlite3_prepare_v2(impl_->db, sql, -1, &st.s, nullptr) != SQLITE_OK) return impl_->err("prepare");
    sqlite3_bind_text(st.s, 1, station.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.s, 2, static_cast<sqlite3_int64>(after));
    sqlite3_bind_int64(st.s, 3, limit ? static_cast<sqlite3_int64>(limit) : -1);
    std::uint64_t n = 0;
    int rc;
    Record r;
    while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) {
        read_record(st.s, r);
        ++n;
        if (!row(r, col_text(st.s, 11))) return n;
    }
    if (rc != SQLITE_DONE) return impl_->err("query");
    return n;
}

Result<std::optional<Head>> Archive::head(const std::string& station) {
    Stmt st;
    if (sqlite3_prepare_v2(impl_->db, "SELECT sequence, sha256 FROM certificates WHERE station=? ORDER BY sequence DESC LIMIT 1", -1, &st.s, nullptr) != SQLITE_OK)
        return impl_->err("prepare");
    sqlite3_bind_text(st.s, 1, station.c_str(), -1, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(st.s);
    if (rc == SQLITE_DONE) return std::optional<Head>{};
    if (rc != SQLITE_ROW) return impl_->err("head");
    return std::optional<Head>{Head{static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 0)), col_text(st.s, 1)}};
}

Result<std::int64_t> Archive::append(const Record& r, const std::string& checkpoint_envelope) {
    auto all = append_batch({{&r, checkpoint_envelope}});
    if (!all) return all.error();
    return std::move(all->front());
}

Result<std::vector<Result<std::int64_t>>> Archive::append_batch(const std::vector<Append>& batch) {
    if (auto b = impl_->exec("BEGIN IMMEDIATE;"); !b) return b.error();
    auto rollback = [&](Error e) -> Result<std::vector<Result<std::int64_t>>> {
        (void)impl_->exec("ROLLBACK;");
        return e;
    };
    Stmt ins, cp;
    const char* sql =
        "INSERT INTO certificates (station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, envelope)"
        " VALUES (?,?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(impl_->db, sql, -1, &ins.s, nullptr) != SQLITE_OK) return rollback(impl_->err("prepare"));
    if (sqlite3_prepare_v2(impl_->db, "INSERT INTO checkpoints (station, sequence, envelope) VALUES (?,?,?)", -1, &cp.s, nullptr) != SQLITE_OK)
        return rollback(impl_->err("prepare"));
    std::vector<Result<std::int64_t>> out;
    out.reserve(batch.size());
    for (const auto& [record, checkpoint] : batch) {
        // Each record in its own savepoint: one that does not continue its chain is refused alone.
        if (auto b = impl_->exec("SAVEPOINT one;"); !b) return rollback(b.error());
        auto one = insert_one(*record, checkpoint, ins.s, cp.s);
        sqlite3_reset(ins.s);
        sqlite3_reset(cp.s);
        if (!one) (void)impl_->exec("ROLLBACK TO one;");
        if (auto r = impl_->exec("RELEASE one;"); !r) return rollback(r.error());
        out.push_back(std::move(one));
    }
    if (auto c = impl_->exec("COMMIT;"); !c) return rollback(c.error());
    return out;
}

Result<std::int64_t> Archive::insert_one(const Record& r, const std::string& checkpoint_envelope, sqlite3_stmt* ins, sqlite3_stmt* cp) {
    auto h = head(r.station);
    if (!h) return h.error();
    const std::uint64_t want_seq = *h ? (*h)->sequence + 1 : 1;
    const std::string want_prev = *h ? (*h)->sha256 : std::string{};
    if (r.sequence != want_seq || r.previous_sha256 != want_prev)
        return make_error(Errc::integrity, fmt::format("{}: certificate {} of station {} does not continue the chain "
                                                       "(expected sequence {} after {})",
                                                       impl_->file.string(), r.sequence, r.station, want_seq,
                                                       want_prev.empty() ? "nothing" : want_prev.substr(0, 12)));
    int i = 1;
    sqlite3_bind_text(ins, i++, r.station.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(ins, i++, static_cast<sqlite3_int64>(r.sequence));
    for (const std::string* s : {&r.serial, &r.variant, &r.lot, &r.verdict, &r.created_at, &r.sha256, &r.previous_sha256, &r.envelope})
        sqlite3_bind_text(ins, i++, s->c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(ins) != SQLITE_DONE) return impl_->err("insert");
    const auto id = sqlite3_last_insert_rowid(impl_->db);
    if (!checkpoint_envelope.empty()) {
        sqlite3_bind_text(cp, 1, r.station.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(cp, 2, static_cast<sqlite3_int64>(r.sequence));
        sqlite3_bind_text(cp, 3, checkpoint_envelope.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(cp) != SQLITE_DONE) return impl_->err("insert checkpoint");
    }
    return id;
}

Result<std::vector<Record>> Archive::by_serial(const std::string& serial) {
    Filter f;
    f.serial = serial;
    return query(f);
}

namespace {

// The WHERE clause of a filter, with its arguments in order.
// SQLite walks one index per query. Each filter column has an index ending in the time (and,
// as every index does, the row id), so one equality and a time range read exactly the rows
// wanted, already in time order, and a LIMIT stops the walk. The most selective equality given
// drives the query (a sha256, a serial, a lot, a station, a failing verdict, a variant, a
// passing verdict: the order of how few rows each tends to match); the others are written
// +column so that they only filter its rows (without statistics SQLite may otherwise walk the
// verdict index for a lot). A station or a variant with a verdict walks the index of both
// (station|variant, verdict, time): a station's failures are a few rows among its many, and
// failures of one station a few among all failures, so neither index alone reads only them.
// With no equality, the time index drives.
enum class Driver { sha256, serial, lot, station_verdict, station, variant_verdict, rare_verdict, variant, verdict, none };

Driver driver(const Filter& f) {
    const bool verdict = !f.verdict.empty();
    if (!f.sha256.empty()) return Driver::sha256;
    if (!f.serial.empty()) return Driver::serial;
    if (!f.lot.empty()) return Driver::lot;
    if (!f.station.empty()) return verdict ? Driver::station_verdict : Driver::station;
    if (!f.variant.empty() && verdict) return Driver::variant_verdict;
    if (verdict && f.verdict != "pass") return Driver::rare_verdict;
    if (!f.variant.empty()) return Driver::variant;
    if (verdict) return Driver::verdict;
    return Driver::none;
}

std::string where(const Filter& f, std::vector<std::string>& args) {
    const Driver d = driver(f);
    std::string sql = " WHERE 1=1";
    const bool station_drives = d == Driver::station || d == Driver::station_verdict;
    const bool variant_drives = d == Driver::variant || d == Driver::variant_verdict;
    const bool verdict_drives = d == Driver::rare_verdict || d == Driver::verdict || d == Driver::station_verdict || d == Driver::variant_verdict;
    for (auto [column, value, drives] : {std::tuple{"sha256", &f.sha256, d == Driver::sha256}, {"serial", &f.serial, d == Driver::serial},
                                         {"lot", &f.lot, d == Driver::lot}, {"station", &f.station, station_drives},
                                         {"variant", &f.variant, variant_drives}, {"verdict", &f.verdict, verdict_drives}}) {
        if (value->empty()) continue;
        sql += fmt::format(" AND {}{}=?", drives ? "" : "+", column);
        args.push_back(*value);
    }
    if (!f.since.empty()) {
        sql += " AND created_at >= ?";
        args.push_back(f.since);
    }
    if (!f.until.empty()) {
        sql += " AND created_at < ?";
        args.push_back(f.until);
    }
    return sql;
}

// SELECT ... WHERE ... ORDER BY ... LIMIT ...: rows in time order (ties in commit order), or
// newest first, along the driving index.
std::string select(const char* columns, const Filter& f, std::vector<std::string>& args) {
    std::string sql = std::string(columns) + where(f, args);
    const char* dir = f.newest_first ? " DESC" : "";
    sql += fmt::format(" ORDER BY created_at{}, id{}", dir, dir);
    if (f.limit > 0) sql += fmt::format(" LIMIT {} OFFSET {}", f.limit, f.offset);
    else if (f.offset > 0) sql += fmt::format(" LIMIT -1 OFFSET {}", f.offset);
    return sql;
}

}  // namespace

Result<std::vector<Record>> Archive::all() { return impl_->query(std::string(kColumns) + " ORDER BY id", {}); }

Result<std::uint64_t> Archive::each_committed(const std::function<bool(const Record&)>& row) {
    return impl_->each(std::string(kColumns) + " ORDER BY id", {}, [&](Record& r) { return row(r); });
}

Result<std::vector<Record>> Archive::query(const Filter& f) {
    std::vector<std::string> args;
    const auto sql = select(kColumns, f, args);
    return impl_->query(sql, args);
}

Result<std::uint64_t> Archive::each(const Filter& f, Read read, const std::function<bool(const Record&)>& row) {
    std::vector<std::string> args;
    const auto sql = select(read == Read::envelopes ? kColumns : kIndexColumns, f, args);
    return impl_->each(sql, args, [&](Record& r) { return row(r); });
}

Result<std::string> Archive::plan(const Filter& f) {
    std::vector<std::string> args;
    const auto sql = "EXPLAIN QUERY PLAN " + select(kIndexColumns, f, args);
    std::string out;
    auto n = impl_->each(sql, args, [&](Record& r) {  // the plan's columns: id, parent, notused, detail
        if (!out.empty()) out += "; ";
        out += r.serial;
        return true;
    });
    if (!n) return n.error();
    return out;
}

Result<std::uint64_t> Archive::count(const Filter& f) {
    std::vector<std::string> args;
    const std::string sql = "SELECT COUNT(*) FROM certificates" + where(f, args);
    Stmt st;
    if (sqlite3_prepare_v2(impl_->db, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) return impl_->err("prepare");
    for (std::size_t i = 0; i < args.size(); ++i) sqlite3_bind_text(st.s, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st.s) != SQLITE_ROW) return impl_->err("count");
    return static_cast<std::uint64_t>(sqlite3_column_int64(st.s, 0));
}

}  // namespace rig::archive
