// The one archive writer of a rigd: every nest's certificates are signed and committed on its
// thread, never the io thread, with group commit: certificates that arrive while a batch is
// being committed share the next transaction and the next fsync. A certificate is reported
// done once durable in the archive; its exported file and the station's checkpoint file are
// copies, written by a second thread (an unwritten checkpoint file replaced by a newer one).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "rig/archive/ledger.hpp"

namespace rig::archive {

class Writer {
public:
    using Done = std::function<void(Result<Committed>)>;
    Writer();
    // Finishes everything queued, then stops its thread.
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    // Queues a certificate for its ledger; `done` runs on the writer's thread once the
    // certificate is durable (or refused). `cert` must live until then. The ledgers of one
    // writer share one archive, and from now on only the writer touches them.
    void commit(Ledger& ledger, reports::Certificate& cert, Done done);
    // Any other work on the ledgers, in queue order with the commits.
    void run(std::function<void()> job);
    // Blocks until every export queued so far is written (or failed and kept for retry).
    void flush_exports();

    struct Stats {
        std::uint64_t batches = 0, certificates = 0;
        std::size_t largest = 0;  // certificates in the largest batch
    };
    Stats stats() const;

private:
    struct Item {
        Ledger* ledger = nullptr;  // null: a job
        reports::Certificate* cert = nullptr;
        Done done;
        std::function<void()> job;
    };
    void loop();
    void commit_batch(std::vector<Item>& batch);
    void export_loop();

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Item> queue_;
    bool stopping_ = false;
    Stats stats_;
    std::deque<Ledger::Export> exports_;  // the exporter's queue, under mutex_
    std::uint64_t exports_queued_ = 0, exports_done_ = 0;
    std::condition_variable export_wake_, exported_;
    bool exporter_stopping_ = false;
    std::thread thread_, exporter_;
};

}  // namespace rig::archive
