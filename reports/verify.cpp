#include "reports/verify.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "reports/text.hpp"

namespace rig::reports {

bool VerifyReport::ok() const {
    return unlisted == 0 && chain_problems.empty() && column_problems.empty() && checkpoint_problems.empty() &&
           std::all_of(items.begin(), items.end(), [](const auto& i) { return i.ok; });
}

Result<VerifiedCertificate> verify_certificate(std::string_view envelope, const TrustStore& trust) {
    auto verified = verify_envelope(envelope, trust);
    if (!verified) return verified.error();
    auto cert = from_json(verified->payload);
    if (!cert) return cert.error();
    if (auto bound = trust.check(verified->keyid, cert->station.id, cert->finished_at); !bound) return bound.error();
    VerifiedCertificate v{std::move(*cert), std::move(verified->payload), "", std::move(verified->keyid)};
    v.sha256 = sha256_hex(v.payload);
    return v;
}

std::vector<std::string> column_mismatches(const Columns& col, const VerifiedCertificate& v) {
    const auto& c = v.certificate;
    std::vector<std::string> out;
    auto cmp = [&](const char* name, const std::string& column, const std::string& payload) {
        if (column != payload)
            out.push_back(fmt::format("column '{}' is '{}' but the signed payload says '{}'", name, printable(column), printable(payload)));
    };
    cmp("station", col.station, c.station.id);
    cmp("sequence", std::to_string(col.sequence), std::to_string(c.station.sequence));
    cmp("serial", col.serial, c.unit.serial);
    cmp("variant", col.variant, c.unit.variant);
    cmp("lot", col.lot, c.unit.lot);
    cmp("verdict", col.verdict, to_string(c.verdict));
    cmp("created_at", col.created_at, c.finished_at);
    cmp("sha256", col.sha256, v.sha256);
    cmp("previous_sha256", col.previous_sha256, c.previous_sha256);
    return out;
}

std::string certificate_file_name(const std::string& serial, const std::string& station, std::uint64_t sequence) {
    return fmt::format("{}-{}-{:06}.dsse.json", serial, station, sequence);
}

}  // namespace rig::reports
