// Offline verification of certificates: signatures, schema, and the per-station hash chain.
#pragma once
#include <string>
#include <vector>

#include "reports/certificate.hpp"
#include "reports/dsse.hpp"

namespace rig::reports {

struct Item {
    std::string name;      // file path or archive row, used in messages
    std::string envelope;  // DSSE JSON text
};

struct ItemReport {
    std::string name;
    bool ok = false;
    std::string problem;   // empty when ok
    std::string serial, verdict, sha256, station;
    std::uint64_t sequence = 0;
};

struct VerifyReport {
    std::vector<ItemReport> items;
    std::vector<std::string> chain_problems;  // gaps and broken links between certificates
    bool ok() const;
};

// complete_chain: the items are a station's whole history (an archive), so a missing sequence
// number or a first certificate with a previous hash is an error. For a loose set of files only
// the links between certificates that are both present are checked.
VerifyReport verify(const std::vector<Item>& items, const TrustStore& trust, bool complete_chain);

}  // namespace rig::reports
