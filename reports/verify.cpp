#include "reports/verify.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>

#include "reports/text.hpp"

namespace rig::reports {

bool VerifyReport::ok() const {
    return chain_problems.empty() && column_problems.empty() && checkpoint_problems.empty() &&
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

namespace {

struct Link {
    std::uint64_t sequence;
    std::string sha, previous, name, time;
};

void check_links(const std::string& station, std::vector<Link>& links, bool complete_chain, VerifyReport& report) {
    std::sort(links.begin(), links.end(), [](const Link& a, const Link& b) { return a.sequence < b.sequence; });
    for (std::size_t i = 0; i < links.size(); ++i) {
        const auto& cur = links[i];
        if (i == 0) {
            if (complete_chain && cur.sequence != 1)
                report.chain_problems.push_back(fmt::format("station {}: certificates 1..{} are missing", station, cur.sequence - 1));
            continue;
        }
        const auto& prev = links[i - 1];
        if (cur.sequence == prev.sequence) {
            report.chain_problems.push_back(fmt::format("{} and {}: both claim station {} sequence {}", prev.name, cur.name, station, cur.sequence));
            continue;
        }
        if (cur.sequence == prev.sequence + 1) {
            if (cur.previous != prev.sha)
                report.chain_problems.push_back(fmt::format("{}: previous_sha256 does not match {} (chain broken)", cur.name, prev.name));
        } else if (complete_chain) {
            report.chain_problems.push_back(fmt::format("station {}: certificates {}..{} are missing before {}", station, prev.sequence + 1,
                                                        cur.sequence - 1, cur.name));
        }
        // A station's clock must not run backwards along its chain: certificates out of time
        // order mean a wrong clock or a forged time.
        if (cur.time < prev.time)
            report.chain_problems.push_back(fmt::format("{}: created {} before {} (created {}): the station clock went backwards", cur.name,
                                                        cur.time, prev.name, prev.time));
    }
}

// The newest valid checkpoint per station; problems for those that do not verify.
std::map<std::string, std::pair<Checkpoint, std::string>> newest_checkpoints(const std::vector<CheckpointItem>& checkpoints,
                                                                             const TrustStore& trust, VerifyReport& report) {
    std::map<std::string, std::pair<Checkpoint, std::string>> newest;
    for (const auto& item : checkpoints) {
        auto c = verify_checkpoint(item.envelope, trust);
        if (!c) {
            report.checkpoint_problems.push_back(fmt::format("{}: {}", item.name, c.error().message));
            continue;
        }
        auto it = newest.find(c->station);
        if (it == newest.end() || c->sequence > it->second.first.sequence) newest[c->station] = {*c, item.name};
        else if (c->sequence == it->second.first.sequence && c->head_sha256 != it->second.first.head_sha256)
            report.checkpoint_problems.push_back(fmt::format("{} and {}: two checkpoints of station {} sign different heads for sequence {} (a fork)",
                                                             it->second.second, item.name, c->station, c->sequence));
    }
    return newest;
}

void check_reach(const std::map<std::string, std::vector<Link>>& by_station,
                 const std::map<std::string, std::pair<Checkpoint, std::string>>& newest, VerifyReport& report) {
    for (const auto& [station, entry] : newest) {
        const auto& [cp, source] = entry;
        report.notes.push_back(fmt::format("station {}: held to checkpoint sequence {} head {} signed {} ({})", station, cp.sequence,
                                           cp.head_sha256.substr(0, 16), cp.time, source));
        auto it = by_station.find(station);
        const Link* at = nullptr;
        std::uint64_t last = 0;
        if (it != by_station.end()) {
            for (const auto& l : it->second) {
                last = std::max(last, l.sequence);
                if (l.sequence == cp.sequence) at = &l;
            }
        }
        if (last < cp.sequence) {
            report.chain_problems.push_back(fmt::format("station {}: the archive ends at sequence {} but checkpoint {} (signed {}) says sequence {}: "
                                                        "certificates {}..{} are missing",
                                                        station, last, source, cp.time, cp.sequence, last + 1, cp.sequence));
        } else if (at && at->sha != cp.head_sha256) {
            report.chain_problems.push_back(fmt::format("station {}: {} is sequence {} with sha256 {} but checkpoint {} signed {} for it",
                                                        station, at->name, cp.sequence, at->sha.substr(0, 16), source, cp.head_sha256.substr(0, 16)));
        }
    }
    for (const auto& [station, links] : by_station)
        if (!newest.count(station))
            report.chain_problems.push_back(fmt::format("station {}: no signed checkpoint found, so a deleted tail could not be seen "
                                                        "(give --checkpoint FILE)", station));
}

// A selection must come with each station's checkpoint, and lie within it.
void check_covered(const std::map<std::string, std::vector<Link>>& by_station,
                   const std::map<std::string, std::pair<Checkpoint, std::string>>& newest, VerifyReport& report) {
    for (const auto& [station, links] : by_station) {
        auto it = newest.find(station);
        if (it == newest.end()) {
            report.chain_problems.push_back(fmt::format("station {}: no valid checkpoint comes with its certificates", station));
            continue;
        }
        const auto& [cp, source] = it->second;
        report.notes.push_back(fmt::format("station {}: certificates checked against checkpoint sequence {} head {} signed {} ({})", station,
                                           cp.sequence, cp.head_sha256.substr(0, 16), cp.time, source));
        for (const auto& l : links) {
            if (l.sequence > cp.sequence)
                report.chain_problems.push_back(fmt::format("{}: sequence {} is newer than the checkpoint {} (sequence {}) that should cover it",
                                                            l.name, l.sequence, source, cp.sequence));
            else if (l.sequence == cp.sequence && l.sha != cp.head_sha256)
                report.chain_problems.push_back(fmt::format("{}: is sequence {} with sha256 {} but checkpoint {} signed {} for it", l.name,
                                                            l.sequence, l.sha.substr(0, 16), source, cp.head_sha256.substr(0, 16)));
        }
    }
}

}  // namespace

std::string certificate_file_name(const std::string& serial, const std::string& station, std::uint64_t sequence) {
    return fmt::format("{}-{}-{:06}.dsse.json", serial, station, sequence);
}

VerifyReport verify(const std::vector<Item>& items, const TrustStore& trust, Chain chain, const std::vector<CheckpointItem>& checkpoints) {
    const bool complete_chain = chain == Chain::complete;
    VerifyReport report;
    std::map<std::string, std::vector<Link>> by_station;
    for (const auto& item : items) {
        ItemReport r;
        r.name = item.name;
        auto v = verify_certificate(item.envelope, trust);
        if (!v) {
            r.problem = v.error().message;
            report.items.push_back(std::move(r));
            continue;
        }
        const auto& cert = v->certificate;
        if (item.columns)
            for (const auto& m : column_mismatches(*item.columns, *v)) report.column_problems.push_back(item.name + ": " + m);
        r.ok = true;
        r.serial = cert.unit.serial;
        r.verdict = to_string(cert.verdict);
        r.sha256 = v->sha256;
        r.station = cert.station.id;
        r.sequence = cert.station.sequence;
        r.created_at = cert.finished_at;
        by_station[r.station].push_back({r.sequence, r.sha256, cert.previous_sha256, r.name, cert.finished_at});
        report.items.push_back(std::move(r));
    }
    for (auto& [station, links] : by_station) check_links(station, links, complete_chain, report);
    auto newest = newest_checkpoints(checkpoints, trust, report);
    if (complete_chain) check_reach(by_station, newest, report);
    if (chain == Chain::selection) check_covered(by_station, newest, report);
    return report;
}

}  // namespace rig::reports
