// The chain checks of verify(): each station's hash chain, link by link, and the signed
// checkpoints it must reach or lie within. StreamVerifier holds per station only its last link,
// so an archive is verified in one pass in bounded memory; verify() sorts a set of files first.
#include <algorithm>
#include <fmt/format.h>
#include <map>

#include "reports/text.hpp"
#include "reports/verify.hpp"

namespace rig::reports {

namespace {

struct Link {
    std::uint64_t sequence;
    std::string sha, previous, name, time;
};

struct StationChain {
    std::optional<Link> last;          // the highest sequence so far
    std::optional<Link> at_checkpoint;  // the link at the sequence its newest checkpoint signs
};

}  // namespace

struct StreamVerifier::Impl {
    const TrustStore& trust;
    Chain chain;
    std::map<std::string, std::pair<Checkpoint, std::string>> newest;  // per station: its newest valid checkpoint, and where from
    std::map<std::string, StationChain> stations;
    VerifyReport report;

    Impl(const TrustStore& t, Chain c, const std::vector<CheckpointItem>& checkpoints) : trust(t), chain(c) { newest_checkpoints(checkpoints); }

    void problem(std::vector<std::string>& kind, std::string p) {
        if (kind.size() < kMaxProblems) kind.push_back(std::move(p));
        else ++report.unlisted;
    }

    void newest_checkpoints(const std::vector<CheckpointItem>& checkpoints) {
        for (const auto& item : checkpoints) {
            auto c = verify_checkpoint(item.envelope, trust);
            if (!c) {
                problem(report.checkpoint_problems, fmt::format("{}: {}", item.name, c.error().message));
                continue;
            }
            auto it = newest.find(c->station);
            if (it == newest.end() || c->sequence > it->second.first.sequence) newest[c->station] = {*c, item.name};
            else if (c->sequence == it->second.first.sequence && c->head_sha256 != it->second.first.head_sha256)
                problem(report.checkpoint_problems, fmt::format("{} and {}: two checkpoints of station {} sign different heads for sequence {} (a fork)",
                                                                it->second.second, item.name, c->station, c->sequence));
        }
    }

    // Signature, binding, payload and columns: the item's report, and its link when it verified.
    ItemReport check(const Item& item, std::optional<Link>& link) {
        ItemReport r;
        r.name = item.name;
        auto v = verify_certificate(item.envelope, trust);
        if (!v) {
            r.problem = v.error().message;
            return r;
        }
        const auto& cert = v->certificate;
        if (item.columns)
            for (const auto& m : column_mismatches(*item.columns, *v)) problem(report.column_problems, item.name + ": " + m);
        r.ok = true;
        r.serial = cert.unit.serial;
        r.verdict = to_string(cert.verdict);
        r.sha256 = v->sha256;
        r.station = cert.station.id;
        r.sequence = cert.station.sequence;
        r.created_at = cert.finished_at;
        link = Link{r.sequence, r.sha256, cert.previous_sha256, r.name, cert.finished_at};
        return r;
    }

    void link(const std::string& station, Link cur) {
        auto& st = stations[station];
        covered(station, cur);
        if (!st.last) {
            if (chain == Chain::complete && cur.sequence != 1)
                problem(report.chain_problems, fmt::format("station {}: certificates 1..{} are missing", station, cur.sequence - 1));
            st.last = std::move(cur);
            return;
        }
        const auto& prev = *st.last;
        if (cur.sequence == prev.sequence) {
            problem(report.chain_problems, fmt::format("{} and {}: both claim station {} sequence {}", prev.name, cur.name, station, cur.sequence));
            st.last = std::move(cur);
            return;
        }
        if (cur.sequence < prev.sequence) {
            problem(report.chain_problems, fmt::format("{}: station {} sequence {} comes after sequence {} ({}): a second certificate for sequence {}, "
                                                       "or rows out of chain order",
                                                       cur.name, station, cur.sequence, prev.sequence, prev.name, cur.sequence));
            return;
        }
        if (cur.sequence == prev.sequence + 1) {
            if (cur.previous != prev.sha)
                problem(report.chain_problems, fmt::format("{}: previous_sha256 does not match {} (chain broken)", cur.name, prev.name));
        } else if (chain == Chain::complete) {
            problem(report.chain_problems, fmt::format("station {}: certificates {}..{} are missing before {}", station, prev.sequence + 1,
                                                       cur.sequence - 1, cur.name));
        }
        // A station's clock must not run backwards along its chain: certificates out of time
        // order mean a wrong clock or a forged time.
        if (cur.time < prev.time)
            problem(report.chain_problems, fmt::format("{}: created {} before {} (created {}): the station clock went backwards", cur.name, cur.time,
                                                       prev.name, prev.time));
        st.last = std::move(cur);
    }

    // The link against its station's checkpoint: remembered when it is the head the checkpoint
    // signs; for a selection, it must lie within the checkpoint.
    void covered(const std::string& station, const Link& l) {
        auto it = newest.find(station);
        if (it == newest.end()) return;
        const auto& [cp, source] = it->second;
        if (l.sequence == cp.sequence) stations[station].at_checkpoint = l;
        if (chain != Chain::selection) return;
        if (l.sequence > cp.sequence)
            problem(report.chain_problems, fmt::format("{}: sequence {} is newer than the checkpoint {} (sequence {}) that should cover it", l.name,
                                                       l.sequence, source, cp.sequence));
        else if (l.sequence == cp.sequence && l.sha != cp.head_sha256)
            problem(report.chain_problems, fmt::format("{}: is sequence {} with sha256 {} but checkpoint {} signed {} for it", l.name, l.sequence,
                                                       l.sha.substr(0, 16), source, cp.head_sha256.substr(0, 16)));
    }

    // A whole history must reach each station's newest checkpoint, and every station needs one.
    void reach() {
        for (const auto& [station, entry] : newest) {
            const auto& [cp, source] = entry;
            report.notes.push_back(fmt::format("station {}: held to checkpoint sequence {} head {} signed {} ({})", station, cp.sequence,
                                               cp.head_sha256.substr(0, 16), cp.time, source));
            auto it = stations.find(station);
            const std::uint64_t last = it != stations.end() && it->second.last ? it->second.last->sequence : 0;
            const Link* at = it != stations.end() && it->second.at_checkpoint ? &*it->second.at_checkpoint : nullptr;
            if (last < cp.sequence)
                problem(report.chain_problems, fmt::format("station {}: the archive ends at sequence {} but checkpoint {} (signed {}) says sequence {}: "
                                                           "certificates {}..{} are missing",
                                                           station, last, source, cp.time, cp.sequence, last + 1, cp.sequence));
            else if (at && at->sha != cp.head_sha256)
                problem(report.chain_problems, fmt::format("station {}: {} is sequence {} with sha256 {} but checkpoint {} signed {} for it", station,
                                                           at->name, cp.sequence, at->sha.substr(0, 16), source, cp.head_sha256.substr(0, 16)));
        }
        for (const auto& [station, st] : stations)
            if (!newest.count(station))
                problem(report.chain_problems, fmt::format("station {}: no signed checkpoint found, so a deleted tail could not be seen "
                                                           "(give --checkpoint FILE)",
                                                           station));
    }

    // A selection comes with each station's checkpoint (its links were checked against it).
    void coverage_notes() {
        for (const auto& [station, st] : stations) {
            auto it = newest.find(station);
            if (it == newest.end()) {
                problem(report.chain_problems, fmt::format("station {}: no valid checkpoint comes with its certificates", station));
                continue;
            }
            const auto& [cp, source] = it->second;
            report.notes.push_back(fmt::format("station {}: certificates checked against checkpoint sequence {} head {} signed {} ({})", station,
                                               cp.sequence, cp.head_sha256.substr(0, 16), cp.time, source));
        }
    }

    VerifyReport finish() {
        if (chain == Chain::complete) reach();
        if (chain == Chain::selection) coverage_notes();
        return std::move(report);
    }
};

StreamVerifier::StreamVerifier(const TrustStore& trust, Chain chain, const std::vector<CheckpointItem>& checkpoints)
    : impl_(std::make_unique<Impl>(trust, chain, checkpoints)) {}
StreamVerifier::StreamVerifier(StreamVerifier&&) noexcept = default;
StreamVerifier::~StreamVerifier() = default;

ItemReport StreamVerifier::add(const Item& item) {
    std::optional<Link> link;
    auto r = impl_->check(item, link);
    if (link) impl_->link(r.station, std::move(*link));
    return r;
}

VerifyReport StreamVerifier::finish() { return impl_->finish(); }

// A set of files or a bundle comes in any order: every item is checked, then each station's
// links are walked in sequence order.
VerifyReport verify(const std::vector<Item>& items, const TrustStore& trust, Chain chain, const std::vector<CheckpointItem>& checkpoints) {
    StreamVerifier v(trust, chain, checkpoints);
    std::vector<ItemReport> reports;
    std::vector<std::pair<std::string, Link>> links;
    for (const auto& item : items) {
        std::optional<Link> link;
        reports.push_back(v.impl_->check(item, link));
        if (link) links.emplace_back(reports.back().station, std::move(*link));
    }
    std::stable_sort(links.begin(), links.end(), [](const auto& a, const auto& b) {
        return std::tie(a.first, a.second.sequence) < std::tie(b.first, b.second.sequence);
    });
    for (auto& [station, link] : links) v.impl_->link(station, std::move(link));
    auto report = v.finish();
    report.items = std::move(reports);
    return report;
}

}  // namespace rig::reports
