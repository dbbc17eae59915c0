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

// What QA reads a certificate archive through: a station's SQLite archive (Archive), or the
// factory archive on PostgreSQL (factory::PgArchive). Both give the same rows in the same order.
class Reader {
public:
    // Read::index leaves Record::envelope empty and never reads the signed envelopes; Read::envelopes
    // reads each with its row.
    enum class Read { index, envelopes };
    virtual ~Reader() = default;
    virtual Result<std::uint64_t> each(const Filter& filter, Read read, const std::function<bool(const Record&)>& row) = 0;
    virtual Result<std::uint64_t> each_committed(const std::function<bool(const Record&)>& row) = 0;
    virtual Result<std::vector<Record>> query(const Filter& filter) = 0;
    virtual Result<std::vector<std::string>> checkpoints() = 0;
    virtual std::string name() const = 0;  // the file, or the redacted URL: for messages
};

class Archive : public Reader {
public:
    // Read-write: creates the file and its schema when absent (rigd).
    static Result<Archive> open(const std::filesystem::path& file);
    // Read-only, for QA (rigctl): never creates, never changes the file or its journal mode,
    // works on read-only media. A missing file is an error naming it.
    static Result<Archive> open_read_only(const std::filesystem::path& file);
    Archive(Archive&&) noexcept;
    Archive& operator=(Archive&&) noexcept;
    ~Archive() override;

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
    Result<std::vector<std::string>> checkpoints() override;
    Result<std::vector<Record>> by_serial(const std::string& serial);
    Result<std::vector<Record>> all();  // in commit order
    // Every row with its envelope, in commit order, one at a time (`row` returns false to stop):
    // a whole archive in constant memory. Returns the rows read.
    Result<std::uint64_t> each_committed(const std::function<bool(const Record&)>& row) override;
    Result<std::vector<Record>> query(const Filter& filter) override;  // in time order (or newest first), ties in commit order
    Result<std::uint64_t> count(const Filter& filter);         // rows the filter matches, before paging
    // SQLite's plan for the filter's query (EXPLAIN QUERY PLAN, details joined by "; "): which
    // index it walks, and whether it sorts ("USE TEMP B-TREE").
    Result<std::string> plan(const Filter& filter);
    // Streams the rows a filter selects, one at a time, holding none: `row` returns false to stop.
    // Read::index reads a list of 10 M rows in constant memory. Returns the rows read.
    // Order: time order (or newest first), ties in commit order, along an index that ends in the
    // time: a LIMIT stops the walk.
    Result<std::uint64_t> each(const Filter& filter, Read read, const std::function<bool(const Record&)>& row) override;
    // The station's certificates after sequence `after`, in sequence order, at most `limit`
    // (0: all), each with the checkpoint signed at it ("" when none): what the factory forwarder
    // sends. Returns the rows read.
    Result<std::uint64_t> each_after(const std::string& station, std::uint64_t after, std::size_t limit,
                                     const std::function<bool(const Record&, const std::string&)>& row);
    const std::filesystem::path& path() const;
    std::string name() const override { return path().string(); }

private:
    struct Impl;
    explicit Archive(std::unique_ptr<Impl> impl);
    Result<std::int64_t> insert_one(const Record& r, const std::string& checkpoint, sqlite3_stmt* ins, sqlite3_stmt* cp);
    std::unique_ptr<Impl> impl_;
};

}  // namespace rig::archive
