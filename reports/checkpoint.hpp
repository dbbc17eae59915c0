// Signed checkpoints: after every commit the station signs (station, sequence, head sha256,
// time), as Certificate Transparency signs tree heads. A copy held anywhere outside the archive
// makes a deleted tail detectable: the archive must reach every checkpoint that survives.
#pragma once
#include <cstdint>
#include <string>

#include "reports/dsse.hpp"

namespace rig::reports {

inline constexpr const char* kCheckpointSchema = "rig.checkpoint/v1";

struct Checkpoint {
    std::string station;
    std::uint64_t sequence = 0;  // the station's last committed certificate
    std::string head_sha256;     // sha256 of that certificate's payload
    std::string time;            // when it was signed, ISO 8601 UTC
};

std::string to_json(const Checkpoint& c);
Result<Checkpoint> checkpoint_from_json(std::string_view json);
std::string sign_checkpoint(const Checkpoint& c, const StationKey& key);

// Signature, payload type, fields, and the signing key's binding to the checkpoint's station.
Result<Checkpoint> verify_checkpoint(std::string_view envelope, const TrustStore& trust);

}  // namespace rig::reports
