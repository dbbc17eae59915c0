// Offline verification of certificates: signatures, key-to-station bindings, schema, the
// per-station hash chain, the signed checkpoints it must reach, and (for an archive) every
// index column against the signed payload it claims to describe.
#pragma once
#include <memory>
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
    std::size_t unlisted = 0;                      // problems past StreamVerifier::kMaxProblems of a kind: counted, not kept
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

// What the items are, and so what the chain must show:
//   complete:  a station's whole history (an archive): a missing sequence number is an error, and
//              the chain must reach the newest valid checkpoint of each station (a station with
//              certificates and no checkpoint at all is an error too);
//   selection: some of a station's certificates with the checkpoint that covers them (an export
//              bundle): the links between neighbours present are checked, every station must
//              have a checkpoint, no certificate may be newer than it, and the certificate at its
//              sequence, if present, must be the head it signs;
//   loose:     a set of files: only the links between certificates that are both present.
enum class Chain { loose, selection, complete };
VerifyReport verify(const std::vector<Item>& items, const TrustStore& trust, Chain chain, const std::vector<CheckpointItem>& checkpoints = {});
inline VerifyReport verify(const std::vector<Item>& items, const TrustStore& trust, bool complete_chain,
                           const std::vector<CheckpointItem>& checkpoints = {}) {
    return verify(items, trust, complete_chain ? Chain::complete : Chain::loose, checkpoints);
}

// Verifies certificates one at a time and checks each station's chain as they come, holding per
// station only its last link and what its checkpoint needs: an archive of any size in bounded
// memory. Items must come in chain order per station (an archive's commit order): one whose
// sequence is below its station's last is a chain problem (a second certificate for a sequence,
// or rows out of order). At most kMaxProblems of each kind are kept; the rest are counted in
// VerifyReport::unlisted.
class StreamVerifier {
public:
    static constexpr std::size_t kMaxProblems = 1000;
    StreamVerifier(const TrustStore& trust, Chain chain, const std::vector<CheckpointItem>& checkpoints = {});
    StreamVerifier(StreamVerifier&&) noexcept;
    ~StreamVerifier();
    // Verifies one item and links it into its station's chain; its report is returned, not kept.
    ItemReport add(const Item& item);
    // After the last item: the chains against their checkpoints. The report's items are empty.
    VerifyReport finish();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    friend VerifyReport verify(const std::vector<Item>&, const TrustStore&, Chain, const std::vector<CheckpointItem>&);
};

// The file name a certificate is exported under: SERIAL-STATION-000042.dsse.json.
std::string certificate_file_name(const std::string& serial, const std::string& station, std::uint64_t sequence);

}  // namespace rig::reports
