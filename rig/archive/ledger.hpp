// One station's record keeping: its head (re-derived from the last signed envelope, never from
// index columns), numbering and chaining, signing, the durable commit with its checkpoint, the
// checkpoint file outside the database, and exported certificate files.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "reports/certificate.hpp"
#include "reports/dsse.hpp"
#include "reports/files.hpp"
#include "reports/trust.hpp"
#include "rig/archive/archive.hpp"

namespace rig::archive {

// The exported copy's file name: SERIAL-STATION-000042.dsse.json.
std::string export_file_name(const std::string& serial, const std::string& station, std::uint64_t sequence);

struct LedgerPaths {
    std::filesystem::path archive;       // archive.sqlite
    std::filesystem::path certificates;  // exported *.dsse.json, one per certificate
    std::filesystem::path checkpoints;   // STATION.checkpoint.json: the newest signed checkpoint
};

struct LedgerHead {
    std::uint64_t sequence = 0;  // 0: nothing certified yet
    std::string sha256;
    std::string time;            // finished_at of the head certificate
};

struct Committed {
    Record record;
    std::filesystem::path file;  // the exported certificate
    std::string export_error;    // non-empty: committed durably, but a file could not be written
};

class Ledger {
public:
    using Log = std::function<void(const std::string&)>;
    // Opens the archive and recovers the station's head. Refuses (with the row or file named)
    // when the last envelope does not verify, its columns were edited, or a surviving checkpoint
    // is ahead of the archive or signs a different head. Rewrites a missing or stale checkpoint
    // file and re-exports every certificate file that is missing or differs.
    static Result<Ledger> open(const LedgerPaths& paths, const std::string& station, reports::StationKey key, reports::TrustStore trust,
                               Log log);
    // The same on an archive several stations' ledgers share (one rigd, many nests): its commits
    // must then come from one thread (the archive::Writer's).
    static Result<Ledger> open(std::shared_ptr<Archive> archive, const LedgerPaths& paths, const std::string& station, reports::StationKey key,
                               reports::TrustStore trust, Log log);
    Ledger(Ledger&&) noexcept;
    ~Ledger();

    const LedgerHead& head() const;
    // Sets the certificate's sequence and previous_sha256, signs it and its checkpoint, commits
    // both durably, then writes the checkpoint file and exports the certificate file. Refuses a
    // certificate whose finished_at is before the head's (a clock that went backwards).
    Result<Committed> commit(reports::Certificate& cert);
    // Group commit: certificates of different ledgers on one archive, in one transaction and
    // one fsync. A ledger appears at most once. One result per entry, in order; one entry's
    // refusal leaves the others committed. The files (the certificate's exported copy, the
    // station's checkpoint file) are written with one syncfs for all of them, or, given
    // `deferred`, left there for write_exports (the writer's exporter thread): they are copies.
    struct Entry {
        Ledger* ledger;
        reports::Certificate* cert;
    };
    struct Export {
        Ledger* ledger;
        reports::FileWrite write;
        bool checkpoint;  // the station's checkpoint file (a later one replaces it), else a certificate
    };
    static std::vector<Result<Committed>> commit_batch(const std::vector<Entry>& batch, std::vector<Export>* deferred = nullptr);
    // Writes exports durably; a failure is logged, a certificate file kept for retry_exports.
    // One error message per export, empty when written. Safe beside the ledgers' commits.
    static std::vector<std::string> write_exports(std::vector<Export> exports);
    // Called (on the exporter's thread) when a deferred export fails: the file and why.
    using ExportFailed = std::function<void(const std::filesystem::path&, const std::string&)>;
    void on_export_failed(ExportFailed handler);
    // Exports that failed earlier, tried again; the error lists what still fails.
    Result<void> retry_exports();
    std::filesystem::path file_for(const std::string& serial, std::uint64_t sequence) const;

private:
    struct Prepared {
        Record record;
        std::string checkpoint;
    };
    // Numbers, chains and signs the certificate and its checkpoint; changes nothing yet.
    Result<Prepared> prepare(reports::Certificate& cert) const;
    struct Impl;
    explicit Ledger(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace rig::archive
