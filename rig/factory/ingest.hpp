// The factory archive's gate: what stations put in rig.inbox becomes a certificate only after it
// verifies here, against the factory's trust store (root keys and endorsed station bindings):
// its signature, its key's binding to the station at the certificate's time, its label
// (station, sequence and sha256 as the inbox row claims) and its link to the station's previous
// certificate. A fork (a second, validly signed certificate for a sequence already stored), an
// unknown key, a bad signature or a broken link is refused: moved to rig.alarms and logged, never
// stored as a certificate. A certificate whose predecessor has not arrived waits in the inbox.
// One ingest runs at a time (an advisory lock); a second waits as a standby.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "reports/trust.hpp"
#include "rig/factory/pg.hpp"

namespace rig::factory {

struct IngestCounts {
    std::uint64_t accepted = 0;    // verified and stored, with their checkpoints
    std::uint64_t duplicates = 0;  // sent again: already stored, the inbox row dropped
    std::uint64_t refused = 0;     // alarms raised (or counted again)
    std::uint64_t waiting = 0;     // in the inbox behind a sequence not yet arrived
    IngestCounts& operator+=(const IngestCounts& o);
};

struct Alarm {
    std::string station;
    std::uint64_t sequence = 0;
    std::string sha256, kind, message;
};

class Ingest {
public:
    using OnAlarm = std::function<void(const Alarm&)>;
    Ingest(pg::Connection& pg, const reports::TrustStore& trust, OnAlarm on_alarm, std::size_t batch = 1000);
    // Takes the ingest lock: waits while another ingest holds it (false when `wait` is false).
    Result<bool> lock(bool wait);
    // Verifies everything in the inbox that can be verified now.
    Result<IngestCounts> drain();
    // Blocks until a station inserts into the inbox (LISTEN rig_inbox) or `timeout_ms` passes.
    Result<void> listen();
    Result<bool> wait(int timeout_ms);

private:
    Result<IngestCounts> station_batch(const std::string& station);
    pg::Connection& pg_;
    const reports::TrustStore& trust_;
    OnAlarm on_alarm_;
    std::size_t batch_;
};

}  // namespace rig::factory
