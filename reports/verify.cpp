#include "reports/verify.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace rig::reports {

bool VerifyReport::ok() const {
    return chain_problems.empty() && std::all_of(items.begin(), items.end(), [](const auto& i) { return i.ok; });
}

VerifyReport verify(const std::vector<Item>& items, const TrustStore& trust, bool complete_chain) {
    VerifyReport report;
    struct Link {
        std::uint64_t sequence;
        std::string sha, previous, name;
    };
    std::map<std::string, std::vector<Link>> by_station;
    for (const auto& item : items) {
        ItemReport r;
        r.name = item.name;
        auto verified = verify_envelope(item.envelope, trust);
        if (!verified) {
            r.problem = verified.error().message;
            report.items.push_back(std::move(r));
            continue;
        }
        auto cert = from_json(verified->payload);
        if (!cert) {
            r.problem = cert.error().message;
            report.items.push_back(std::move(r));
            continue;
        }
        r.ok = true;
        r.serial = cert->unit.serial;
        r.verdict = to_string(cert->verdict);
        r.sha256 = sha256_hex(verified->payload);
        r.station = cert->station.id;
        r.sequence = cert->station.sequence;
        by_station[r.station].push_back({r.sequence, r.sha256, cert->previous_sha256, r.name});
        report.items.push_back(std::move(r));
    }
    for (auto& [station, links] : by_station) {
        std::sort(links.begin(), links.end(), [](const Link& a, const Link& b) { return a.sequence < b.sequence; });
        for (std::size_t i = 0; i < links.size(); ++i) {
            const auto& cur = links[i];
            if (i == 0) {
                if (complete_chain && cur.sequence != 1)
                    report.chain_problems.push_back(fmt::format("station {}: certificates 1..{} are missing", station, cur.sequence - 1));
                if (complete_chain && cur.sequence == 1 && !cur.previous.empty())
                    report.chain_problems.push_back(fmt::format("{}: first certificate of station {} names a previous one", cur.name, station));
                continue;
            }
            const auto& prev = links[i - 1];
            if (cur.sequence == prev.sequence) {
                report.chain_problems.push_back(fmt::format("{} and {}: both claim station {} sequence {}", prev.name, cur.name, station, cur.sequence));
            } else if (cur.sequence == prev.sequence + 1) {
                if (cur.previous != prev.sha)
                    report.chain_problems.push_back(fmt::format("{}: previous_sha256 does not match {} (chain broken)", cur.name, prev.name));
            } else if (complete_chain) {
                report.chain_problems.push_back(fmt::format("station {}: certificates {}..{} are missing before {}", station,
                                                            prev.sequence + 1, cur.sequence - 1, cur.name));
            }
        }
    }
    return report;
}

}  // namespace rig::reports
