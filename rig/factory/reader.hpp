// QA's reads of the factory archive: the same rows, columns and order as a station's SQLite
// archive (archive::Archive), from rig.certificates and rig.checkpoints, streamed row by row.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "rig/archive/archive.hpp"
#include "rig/factory/pg.hpp"

namespace rig::factory {

class PgArchive : public archive::Reader {
public:
    // Connects and checks the schema's version. The URL's user needs only rig_qa's SELECT.
    static Result<std::unique_ptr<PgArchive>> open(const std::string& url);
    PgArchive(pg::Connection c, std::string url) : pg_(std::move(c)), url_(std::move(url)) {}

    Result<std::uint64_t> each(const archive::Filter& filter, Read read, const std::function<bool(const archive::Record&)>& row) override;
    Result<std::uint64_t> each_committed(const std::function<bool(const archive::Record&)>& row) override;
    Result<std::vector<archive::Record>> query(const archive::Filter& filter) override;
    Result<std::vector<std::string>> checkpoints() override;
    std::string name() const override { return pg_.name(); }
    Result<std::uint64_t> count(const archive::Filter& filter);
    // PostgreSQL's plan for the filter's list (EXPLAIN, lines joined by "; ").
    Result<std::string> plan(const archive::Filter& filter);
    pg::Connection& connection() { return pg_; }

private:
    // A query asked while another streams (stats looks up each row's unit) goes over a second
    // connection, opened when first needed: one connection streams one result at a time.
    Result<pg::Connection*> free_connection();
    pg::Connection pg_;
    std::string url_;
    std::optional<pg::Connection> side_;
    int streaming_ = 0;
};

// A postgresql:// URL opens the factory archive; anything else is a SQLite archive file, opened
// read-only.
Result<std::unique_ptr<archive::Reader>> open_reader(const std::string& location);

}  // namespace rig::factory
