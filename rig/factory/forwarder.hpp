// Store-and-forward to the factory archive: a thread of its own (never the io thread, never the
// archive writer's) reads each station's committed certificates from the station's SQLite
// archive, the durable local record, and sends them with their checkpoints to PostgreSQL's
// inbox, in sequence order, in batches, idempotently (a resent item is the same inbox row).
// After any failure it reconnects with backoff and asks the server where to resume
// (rig.acknowledged), so a server restored from an older backup is sent what it lost.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rig/archive/archive.hpp"
#include "rig/factory/pg.hpp"

namespace rig::factory {

// One batch of one station, sent in one statement and one transaction: the certificates after
// `after` (at most `limit`), each with the checkpoint the station signed at it. Returns the last
// sequence sent (== after when there was nothing to send).
Result<std::uint64_t> forward_batch(pg::Connection& pg, archive::Archive& local, const std::string& station, std::uint64_t after, std::size_t limit);
// Where the factory archive wants `station` to resume: its last sequence received, and the
// sha256 it holds for that sequence ("" for none).
struct Ack {
    std::uint64_t sequence = 0;
    std::string sha256;
};
Result<Ack> acknowledged(pg::Connection& pg, const std::string& station);

struct ForwarderOptions {
    std::string url;                     // postgresql://...
    std::filesystem::path archive;       // the station's SQLite archive (read here read-only)
    std::vector<std::string> stations;   // the station ids whose chains are forwarded
    std::size_t batch = 500;
    std::chrono::milliseconds poll{500};           // how often the local archive is looked at
    std::chrono::milliseconds backoff_min{250}, backoff_max{30000};
    // A statement unanswered this long (a hung server, a proxy passing no more bytes) drops the
    // connection; the next round reconnects and resumes from what the server acknowledged.
    std::chrono::milliseconds reply_timeout{30000};
};

class Forwarder {
public:
    using Log = std::function<void(const std::string&)>;
    Forwarder(ForwarderOptions options, Log log);
    // Stops the thread, within 200 ms even while a statement waits on the server; what is not
    // sent yet is sent after the next start.
    ~Forwarder();
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;

    void wake();  // a certificate was committed: look now
    // Waits up to `grace` for every committed certificate to be acknowledged; false if not.
    bool drain(std::chrono::milliseconds grace);

    struct StationState {
        std::uint64_t local = 0;         // the station's last committed sequence
        std::uint64_t acknowledged = 0;  // the factory archive's, as last heard
    };
    struct Status {
        bool connected = false;
        std::uint64_t sent = 0, batches = 0, failures = 0;
        std::string last_error;
        std::map<std::string, StationState> stations;
    };
    Status status() const;

private:
    void loop();
    bool round();    // one pass over the stations; false on failure
    bool connect();  // and ask where each station resumes
    // Where to send from, given the server's acknowledgement: a sha256 that differs from the
    // station's own at that sequence (the station's archive was restored or forked) is logged,
    // and the station's own certificate is sent for the factory to refuse as a fork.
    Result<std::uint64_t> resume_after(const std::string& station, const Ack& ack, std::uint64_t local);
    void fail(const std::string& why);
    // The server session of the connection before this one, if it lingers (a connection dropped
    // mid-statement, e.g. behind a proxy that froze: its backend waits for the rest of a batch,
    // holding a lock on rig.inbox that blocks migrations), is ended: same role, same pid and
    // start time, so never another's.
    void end_previous_session();

    ForwarderOptions o_;
    Log log_;
    mutable std::mutex mutex_;
    std::condition_variable wake_, progressed_;
    bool stopping_ = false, woken_ = false;
    std::atomic<bool> halt_{false};  // stopping_, for a statement waiting on the server
    std::uint64_t rounds_ = 0;  // passes that ended with no failure
    std::chrono::steady_clock::time_point last_asked_;
    std::map<std::string, std::uint64_t> forked_;    // station -> the sequence logged as forked
    std::map<std::string, std::uint64_t> behind_;    // station -> the factory's head, logged as ahead of ours
    std::map<std::string, std::uint64_t> asked_at_;  // station -> its local head when last asked
    Status status_;
    std::optional<pg::Connection> pg_;
    struct Session {
        std::string pid, started;  // pg_backend_pid() and its backend_start
    };
    std::optional<Session> session_, previous_;
    std::optional<archive::Archive> local_;
    std::thread thread_;
};

}  // namespace rig::factory
