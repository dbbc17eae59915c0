#include "rig/factory/reader.hpp"

#include <fmt/format.h>

#include "rig/factory/schema.hpp"

namespace rig::factory {

namespace {

constexpr const char* kColumns =
    "SELECT id, station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, envelope FROM rig.certificates";
constexpr const char* kIndexColumns =
    "SELECT id, station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, '' FROM rig.certificates";

void read_record(const pg::Rows& rows, archive::Record& r) {
    r.id = rows.integer(0, 0);
    r.station = rows.text(0, 1);
    r.sequence = static_cast<std::uint64_t>(rows.integer(0, 2));
    r.serial = rows.text(0, 3);
    r.variant = rows.text(0, 4);
    r.lot = rows.text(0, 5);
    r.verdict = rows.text(0, 6);
    r.created_at = rows.text(0, 7);
    r.sha256 = rows.text(0, 8);
    r.previous_sha256 = rows.text(0, 9);
    r.envelope = rows.text(0, 10);
}

// The filter as SQL: the same selection, order and paging as the SQLite archive's. The planner
// picks the index (each filter column has one ending in (created_at, id)).
std::string where(const archive::Filter& f, std::vector<pg::Param>& args) {
    std::string sql = " WHERE true";
    for (auto [column, value] : {std::pair{"sha256", &f.sha256}, {"serial", &f.serial}, {"lot", &f.lot}, {"station", &f.station},
                                 {"variant", &f.variant}, {"verdict", &f.verdict}}) {
        if (value->empty()) continue;
        args.emplace_back(*value);
        sql += fmt::format(" AND {} = ${}", column, args.size());
    }
    if (!f.since.empty()) {
        args.emplace_back(f.since);
        sql += fmt::format(" AND created_at >= ${}", args.size());
    }
    if (!f.until.empty()) {
        args.emplace_back(f.until);
        sql += fmt::format(" AND created_at < ${}", args.size());
    }
    return sql;
}

std::string select(const char* columns, const archive::Filter& f, std::vector<pg::Param>& args) {
    std::string sql = std::string(columns) + where(f, args);
    const char* dir = f.newest_first ? " DESC" : "";
    sql += fmt::format(" ORDER BY created_at{}, id{}", dir, dir);
    if (f.limit > 0) sql += fmt::format(" LIMIT {}", f.limit);
    if (f.offset > 0) sql += fmt::format(" OFFSET {}", f.offset);
    return sql;
}

}  // namespace

Result<std::unique_ptr<PgArchive>> PgArchive::open(const std::string& url) {
    auto c = pg::Connection::connect(url);
    if (!c) return c.error();
    if (auto s = require_schema(*c); !s) return s.error();
    return std::make_unique<PgArchive>(std::move(*c), url);
}

Result<pg::Connection*> PgArchive::free_connection() {
    if (streaming_ == 0) return &pg_;
    if (streaming_ > 1) return make_error(Errc::invalid_argument, fmt::format("{}: three queries at once", pg_.name()));
    if (!side_) {
        auto c = pg::Connection::connect(url_);
        if (!c) return c.error();
        side_.emplace(std::move(*c));
    }
    return &*side_;
}

Result<std::uint64_t> PgArchive::each(const archive::Filter& f, Read read, const std::function<bool(const archive::Record&)>& row) {
    std::vector<pg::Param> args;
    const auto sql = select(read == Read::envelopes ? kColumns : kIndexColumns, f, args);
    auto c = free_connection();
    if (!c) return c.error();
    archive::Record r;
    ++streaming_;
    auto n = (*c)->each(sql, args, [&](const pg::Rows& rows) {
        read_record(rows, r);
        return row(r);
    });
    --streaming_;
    return n;
}

Result<std::uint64_t> PgArchive::each_committed(const std::function<bool(const archive::Record&)>& row) {
    auto c = free_connection();
    if (!c) return c.error();
    archive::Record r;
    ++streaming_;
    auto n = (*c)->each(std::string(kColumns) + " ORDER BY id", {}, [&](const pg::Rows& rows) {
        read_record(rows, r);
        return row(r);
    });
    --streaming_;
    return n;
}

Result<std::vector<archive::Record>> PgArchive::query(const archive::Filter& f) {
    std::vector<archive::Record> out;
    auto n = each(f, Read::envelopes, [&](const archive::Record& r) {
        out.push_back(r);
        return true;
    });
    if (!n) return n.error();
    return out;
}

Result<std::vector<std::string>> PgArchive::checkpoints() {
    auto c = free_connection();
    if (!c) return c.error();
    auto rows = (*c)->exec("SELECT DISTINCT ON (station) envelope FROM rig.checkpoints ORDER BY station, sequence DESC");
    if (!rows) return rows.error();
    std::vector<std::string> out;
    for (int i = 0; i < rows->size(); ++i) out.emplace_back(rows->text(i, 0));
    return out;
}

Result<std::uint64_t> PgArchive::count(const archive::Filter& f) {
    std::vector<pg::Param> args;
    auto c = free_connection();
    if (!c) return c.error();
    auto rows = (*c)->exec("SELECT count(*) FROM rig.certificates" + where(f, args), args);
    if (!rows) return rows.error();
    return static_cast<std::uint64_t>(rows->integer(0, 0));
}

Result<std::string> PgArchive::plan(const archive::Filter& f) {
    std::vector<pg::Param> args;
    auto c = free_connection();
    if (!c) return c.error();
    auto rows = (*c)->exec("EXPLAIN " + select(kIndexColumns, f, args), args);
    if (!rows) return rows.error();
    std::string out;
    for (int i = 0; i < rows->size(); ++i) out += fmt::format("{}{}", i ? "; " : "", rows->text(i, 0));
    return out;
}

Result<std::unique_ptr<archive::Reader>> open_reader(const std::string& location) {
    if (pg::is_url(location)) {
        auto p = PgArchive::open(location);
        if (!p) return p.error();
        return std::unique_ptr<archive::Reader>(std::move(*p));
    }
    auto a = archive::Archive::open_read_only(location);
    if (!a) return a.error();
    return std::unique_ptr<archive::Reader>(std::make_unique<archive::Archive>(std::move(*a)));
}

}  // namespace rig::factory
