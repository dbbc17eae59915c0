// An archive row checked before it is shown: its signed payload verifies against the trust
// store and says what the row's columns say. rigctl and the HTTP API show only such rows.
#pragma once
#include "reports/verify.hpp"
#include "rig/archive/archive.hpp"

namespace rig::archive {

reports::Columns columns_of(const Record& r);
Result<reports::VerifiedCertificate> verify_record(const Record& r, const reports::TrustStore& trust);

}  // namespace rig::archive
