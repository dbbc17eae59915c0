#include "rig/archive/verified.hpp"

namespace rig::archive {

reports::Columns columns_of(const Record& r) {
    return {r.station, r.sequence, r.serial, r.variant, r.lot, r.verdict, r.created_at, r.sha256, r.previous_sha256};
}

Result<reports::VerifiedCertificate> verify_record(const Record& r, const reports::TrustStore& trust) {
    auto v = reports::verify_certificate(r.envelope, trust);
    if (!v) return v.error();
    auto wrong = reports::column_mismatches(columns_of(r), *v);
    if (!wrong.empty()) return make_error(Errc::integrity, wrong.front());
    return v;
}

}  // namespace rig::archive
