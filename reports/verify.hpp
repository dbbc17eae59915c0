// Offline verification of certificates: signatures, key-to-station bindings, schema, the
// per-station hash chain, the signed checkpoints it must reach, and (for an archive) every
// index column against the signed payload it claims to describe.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "reports/certificate.hpp"
#include "reports/checkpoint.hpp"
#include "reports/dsse.hpp"
#include "reports/trust.hpp"

namespace rig::reports {

// What an archive row says about its certificate. Never trusted: compared with the payload.
struct Columns {
    std::string station;
    std::uint64_t sequence = 0;
    std::string serial, variant, lot, verdict, created_at, sha256, previous_sha256;
};

struct Item {
    std::string name;      // file path or archive row, used in messages
    std::string envelope;  // DSSE JSON text
    std::optional<Columns> columns;
};

struct CheckpointItem {
    std::string name;      // where it came from: a file, or the archive's checkpoint table
    std::string envelope;
};

struct ItemReport {
    std::string name;
    bool ok = false;
    std::string problem;   // empty when ok
    std::string serial, verdict, sha256, station, created_at;
    std::uint64_t sequence = 0;
};

struct VerifyReport {
    std::vector<ItemReport> items;
    std::vector<std::string> chain_problems;       // gaps, broken links, clocks, checkpoints not reached
    std::vector<std::string> column_problems;      // archive columns that disagree with their payload
    std::vector<std::string> checkpoint_problems;  // checkpoints that do not verify
    std::vector<std::string> notes;                // which checkpoint each station was held to
    bool ok() const;
};

// The checks on one envelope: signature, payload, and the key's binding to the payload's
// station at the payload's time. Used by verify() and by every query that shows a certificate.
struct VerifiedCertificate {
    Certificate certificate;
    std::string payload, sha256, keyid;
};
Result<VerifiedCertificate> verify_certificate(std::string_view envelope, const TrustStore& trust);

// Every column of `columns` that disagrees with the certificate, as "column 'verdict' is 'pass'
// but the signed payload says 'fail'"; empty when all agree.
std::vector<std::string> column_mismatches(const Columns& columns, const VerifiedCertificate& v);

// complete_chain: the items are a station's whole history (an archive), so a missing sequence
// number is an error, and the chain must reach the newest valid checkpoint of each station (a
// station with certificates and no checkpoint at all is an error too). For a loose set of files
// only the links between certificates that are both present are checked.
VerifyReport verify(const std::vector<Item>& items, const TrustStore& trust, bool complete_chain,
                    const std::vector<CheckpointItem>& checkpoints = {});

}  // namespace rig::reports
