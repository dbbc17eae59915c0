// The certificate archive: SQLite (WAL, synchronous=FULL), append-only, hash-chained per station.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/common/result.hpp"

struct sqlite3_stmt;

namespace rig::archive {

struct Record {
    std::int64_t id = 0;
    std::string station;
    std::uint64_t sequence = 0;
    std::string serial, variant, lot, verdict;
    std::string created_at;
    std::string sha256, previous_sha256;
    std::string envelope;  // DSSE JSON, exactly as signed
};

struct Head {
    std::uint64_t sequence = 0;
    std::string sha256;
};

// What QA pulls certificates by; empty fields match everything. Dates are ISO 8601 prefixes
// compared as text ("2026-11" selects November 2026).
struct Filter {
    std::string serial, lot, variant, verdict, station, sha256;
    std::string since, until;  // created_at >= since, created_at < until
    std::size_t limit = 0, offset = 0;  // a page of the rows (limit 0: all of them)
    bool newest_first = false;
};

class Archive {
public:
    // Read-write: creates the file and its schema when absent (rigd).
    static Result<Archive> open(const std::filesystem::path& file);
    // Read-only, for QA (rigctl): never creates, never changes the file or its journal mode,
    // works on read-only media. A missing file is an error naming it.
    static Result<Archive> open_read_only(const std::filesystem::path& file);
    Archive(Archive&&) noexcept;
    Archive& operator=(Archive&&) noexcept;
    ~Archive();

    // The station's last certificate, or nullopt before its first.
    Result<std::optional<Head>> head(const std::string& station);
    // Commits durably (fsync through synchronous=FULL) before returning, with the checkpoint
    // the station signed for it, in one transaction. Rejects a record whose sequence or previous
    // hash does not continue the station's chain.
    Result<std::int64_t> append(const Record& record, const std::string& checkpoint_envelope = {});
    // Group commit: every record in one transaction and one fsync. A record that does not
    // continue its station's chain is refused alone; the others commit. One result per record,
    // in order; the outer error is the transaction's own (nothing committed).
    struct Append {
        const Record* record;
        std::string checkpoint_envelope;
    };
    Result<std::vector<Result<std::int64_t>>> append_batch(const std::vector<Append>& batch);
    // The station's most recently inserted row (by row id, not by its sequence column), or
    // nullopt: where rigd re-derives its head from the signed envelope.
    Result<std::optional<Record>> last(const std::string& station);
    // The newest checkpoint envelope of every station in the archive.
    Result<std::vector<std::string>> checkpoints();
    Result<std::vector<Record>> by_serial(const std::string& serial);
    Result<std::vector<Record>> all();  // in commit order
    // Every row with its envelope, in commit order, one at a time (`row` returns false to stop):
    // a whole archive in constant memory. Returns the rows read.
    Result<std::uint64_t> each_committed(const std::function<bool(const Record&)>& row);
    Result<std::vector<Record>> query(const Filter& filter);  // in time order (or newest first), ties in commit order
    Result<std::uint64_t> count(const Filter& filter);         // rows the filter matches, before paging
    // SQLite's plan for the filter's query (EXPLAIN QUERY PLAN, details joined by "; "): which
    // index it walks, and whether it sorts ("USE TEMP B-TREE").
    Result<std::string> plan(const Filter& filter);
    // Streams the rows a filter selects, one at a time, holding none: `row` returns false to stop.
    // Read::index leaves Record::envelope empty and never reads the signed envelopes (a list of
    // 10 M rows in constant memory); Read::envelopes reads each with its row. Returns the rows read.
    // Order: time order (or newest first), ties in commit order, along an index that ends in the
    // time: a LIMIT stops the walk.
    enum class Read { index, envelopes };
    Result<std::uint64_t> each(const Filter& filter, Read read, const std::function<bool(const Record&)>& row);
    const std::filesystem::path& path() const;

private:
    struct Impl;
    explicit Archive(std::unique_ptr<Impl> impl);
    Result<std::int64_t> insert_one(const Record& r, const std::string& checkpoint, sqlite3_stmt* ins, sqlite3_stmt* cp);
    std::unique_ptr<Impl> impl_;
};

}  // namespace rig::archive
