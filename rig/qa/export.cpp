// rigctl export: a bundle of verified certificates with the keys, endorsements and checkpoints
// needed to verify them offline, and a signed manifest of every file.
#include <boost/json.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <set>

#include "reports/bundle.hpp"
#include "reports/checkpoint.hpp"
#include "reports/files.hpp"
#include "reports/text.hpp"
#include "rig/archive/verified.hpp"
#include "rig/factory/reader.hpp"
#include "rig/qa/qa.hpp"

namespace rig::qa {
namespace fs = std::filesystem;
using reports::printable;

namespace {

struct Signer {
    reports::StationKey key;
    std::string kind, name;
    std::optional<reports::RootKey> root;
};

// The signing key and who it is: a root named by NAME.root.pub beside NAME.root.key, or a
// station bound to the key (with an open binding) in the trust store.
Result<Signer> load_signer(const fs::path& file, const reports::TrustStore& trust) {
    auto key = reports::StationKey::load(file);
    if (!key) return key.error();
    const auto keyid = key->public_key().keyid();
    const auto name = file.filename().string();
    if (name.size() > 9 && name.ends_with(".root.key")) {
        const auto pub = file.parent_path() / (name.substr(0, name.size() - 4) + ".pub");
        auto text = reports::read_file(pub, 64 * 1024);
        if (!text) return text.error();
        auto root = reports::parse_root(*text, pub.string());
        if (!root) return root.error();
        if (root->key.keyid() != keyid)
            return make_error(Errc::invalid_argument, fmt::format("{}: holds key {}, not the key of {} ({})", file.string(), keyid, pub.string(), root->key.keyid()));
        return Signer{std::move(*key), "root", root->name, *root};
    }
    for (const auto& b : trust.bindings())
        if (b.key.keyid() == keyid && b.not_after.empty()) return Signer{std::move(*key), "station", b.station, std::nullopt};
    return make_error(Errc::invalid_argument, fmt::format("{}: key {} is neither a root key (NAME.root.key) nor the current key of a station in the trust "
                                                          "store", file.string(), keyid));
}

std::string readme(const reports::Manifest& m, const std::string& bundle) {
    std::string sel;
    for (const auto& [k, v] : m.selection) sel += fmt::format(" --{} {}", k, v);
    return fmt::format(
        "rig certificate bundle ({})\n\n"
        "{} test certificates of {} station(s), selected by:{}\n"
        "Exported {} by {}.\n\n"
        "certificates/  each unit's signed test certificate (DSSE envelope, Ed25519), as the station signed it\n"
        "keys/          each station's key bindings (which key signs for which station, and when), with their\n"
        "               endorsements by a root key\n"
        "checkpoints/   each station's newest signed checkpoint: the head of its certificate chain at export\n"
        "manifest.dsse.json  the sha256 of every file here, signed: a changed, added or removed file fails\n\n"
        "Verify it offline, with the root public key(s) you trust (NAME.root.pub) and nothing else:\n"
        "  rigctl verify --trust qa.root.pub {}\n"
        "Exit 0: every signature, key binding, chain link, checkpoint and file verified. Exit 1: something did not,\n"
        "and each problem names its file.\n",
        reports::kBundleSchema, m.certificates, m.stations.size(), sel.empty() ? " (everything)" : sel, m.created_at, m.created_by,
        fs::path(bundle).filename().string());
}

// The newest checkpoint of each station, from the archive's table and the checkpoint files.
std::map<std::string, std::string> newest_checkpoints(archive::Reader& a, const fs::path& dir, const reports::TrustStore& trust) {
    std::vector<std::string> candidates;
    if (auto stored = a.checkpoints()) candidates = std::move(*stored);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".json")
            if (auto text = reports::read_file(e.path(), 1 << 20)) candidates.push_back(std::move(*text));
    std::map<std::string, std::pair<std::uint64_t, std::string>> best;
    for (auto& env : candidates) {
        auto cp = reports::verify_checkpoint(env, trust);
        if (!cp) continue;
        auto& b = best[cp->station];
        if (b.second.empty() || cp->sequence > b.first) b = {cp->sequence, env};
    }
    std::map<std::string, std::string> out;
    for (auto& [station, b] : best) out[station] = b.second + (b.second.ends_with("\n") ? "" : "\n");
    return out;
}

std::vector<std::pair<std::string, std::string>> selection_of(const archive::Filter& f) {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto [k, v] : {std::pair{"serial", &f.serial}, {"lot", &f.lot}, {"variant", &f.variant}, {"verdict", &f.verdict}, {"station", &f.station},
                        {"since", &f.since}, {"until", &f.until}})
        if (!v->empty()) out.emplace_back(k, *v);
    return out;
}

// keys/: every binding of the bundle's stations (exactly as on disk: an endorsement signs those
// bytes) with its endorsement, and the exporting root's public key.
Result<std::size_t> add_keys(reports::BundleWriter& w, const std::set<std::string>& stations, const reports::TrustStore& trust, const Signer& signer) {
    std::size_t n = 0;
    std::set<std::string> added;
    for (const auto& b : trust.bindings()) {
        if (!stations.count(b.station)) continue;
        const auto name = "keys/" + reports::binding_file_name(b.station, b.key);
        if (!added.insert(name).second) continue;
        auto text = reports::read_file(b.source, 64 * 1024);
        if (!text) return text.error();
        if (auto r = w.add(name, *text); !r) return r.error();
        ++n;
        if (auto e = reports::read_file(b.source + reports::kEndorsementSuffix, 1 << 20))
            if (auto r = w.add(name + reports::kEndorsementSuffix, *e); !r) return r.error();
    }
    if (signer.root)
        if (auto r = w.add("keys/" + signer.root->name + reports::kRootSuffix, reports::to_text(*signer.root)); !r) return r.error();
    return n;
}

}  // namespace

int export_bundle(const Source& src, const ExportOptions& o) {
    auto signer = load_signer(o.key, src.trust);
    if (!signer) return fail(signer.error());
    auto opened = factory::open_reader(src.archive);
    if (!opened) return fail(opened.error());
    auto& a = **opened;
    auto writer = reports::BundleWriter::create(o.output, reports::utc_now());
    if (!writer) return fail(writer.error());
    std::set<std::string> stations;
    std::uint64_t count = 0;
    std::vector<std::string> bad;
    Result<void> written;
    auto n = a.each(o.filter, archive::Reader::Read::envelopes, [&](const archive::Record& r) {
        auto v = archive::verify_record(r, src.trust);
        if (!v) {
            bad.push_back(fmt::format("{}#{} ({}): {}", a.name(), r.id, printable(r.serial), v.error().message));
            return bad.size() < 20;
        }
        stations.insert(r.station);
        ++count;
        written = writer->add("certificates/" + reports::certificate_file_name(r.serial, r.station, r.sequence), r.envelope + "\n");
        return bool(written);
    });
    if (!n) return fail(n.error());
    if (!written) return fail(written.error());
    if (!bad.empty()) {
        for (const auto& b : bad) fmt::print(stderr, "rigctl: NOT VALID {}\n", printable(b));
        return fail(fmt::format("export refused: {} selected certificate{} did not verify; no bundle written", bad.size(), bad.size() == 1 ? "" : "s"),
                    exit_verification_failed);
    }
    if (count == 0) return fail(fmt::format("no certificate in {} matches the selection; no bundle written", a.name()), exit_not_found);
    auto keys = add_keys(*writer, stations, src.trust, *signer);
    if (!keys) return fail(keys.error());
    const auto checkpoints = newest_checkpoints(a, o.checkpoints, src.trust);
    for (const auto& station : stations) {
        auto it = checkpoints.find(station);
        if (it == checkpoints.end())
            return fail(fmt::format("station {} has no signed checkpoint in {} or {}; no bundle written", station, a.name(), o.checkpoints.string()),
                        exit_verification_failed);
        if (auto r = writer->add("checkpoints/" + station + ".checkpoint.json", it->second); !r) return fail(r.error());
    }
    reports::Manifest m;
    m.created_by = o.created_by;
    m.signer.kind = signer->kind;
    m.signer.name = signer->name;
    m.selection = selection_of(o.filter);
    m.certificates = count;
    m.stations.assign(stations.begin(), stations.end());
    // README.txt goes last but one: it describes the manifest's counts.
    m.created_at = writer->created_at();
    if (auto r = writer->add("README.txt", readme(m, o.output.string())); !r) return fail(r.error());
    auto done = writer->commit(m, signer->key);
    if (!done) return fail(done.error());
    std::error_code ec;
    const auto size = fs::file_size(o.output, ec);
    const auto who = fmt::format("{} {} ({})", signer->kind, signer->name, signer->key.public_key().keyid());
    if (o.json) {
        boost::json::array st;
        for (const auto& s : stations) st.push_back(boost::json::string(s));
        fmt::print("{}\n", boost::json::serialize(boost::json::object{{"file", o.output.string()}, {"certificates", count}, {"stations", std::move(st)},
                                                                       {"keys", *keys}, {"checkpoints", stations.size()}, {"bytes", size},
                                                                       {"signer", who}, {"created_at", done->created_at}}));
    } else {
        // A lot built on a whole line names its first stations only (--json lists them all).
        const std::string named = stations.size() <= 6 ? fmt::format("{}", fmt::join(stations, ", "))
                                                       : fmt::format("{}, {}, {} and {} more", *stations.begin(), *std::next(stations.begin()),
                                                                     *std::next(stations.begin(), 2), stations.size() - 3);
        fmt::print("exported {} certificate{} of {} station{} ({}) to {}: {} bytes, {} key binding{}, {} checkpoint{}; manifest signed by {}\n", count,
                   count == 1 ? "" : "s", stations.size(), stations.size() == 1 ? "" : "s", named, o.output.string(), size, *keys,
                   *keys == 1 ? "" : "s", stations.size(), stations.size() == 1 ? "" : "s", who);
    }
    return exit_ok;
}

}  // namespace rig::qa
