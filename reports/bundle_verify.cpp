// verify_bundle: the bundle read whole, its keys trusted only through the verifier's roots, the
// manifest's signature and every file against it, then the certificates with their checkpoints.
#include <fmt/format.h>
#include <map>
#include <set>

#include "reports/bundle.hpp"
#include "reports/checkpoint.hpp"
#include "reports/text.hpp"

namespace rig::reports {

namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, std::string_view p) { return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0; }

bool same_binding(const KeyBinding& a, const KeyBinding& b) {
    return a.station == b.station && a.key.bytes == b.key.bytes && a.not_before == b.not_before && a.not_after == b.not_after;
}

// The bundle's bindings that the verifier may trust: endorsed by one of its roots, or already
// bound in its own store. Problems name the key file.
void trust_keys(const std::map<std::string, std::string>& files, TrustStore& effective, BundleReport& report) {
    const TrustStore given = effective;
    for (const auto& [path, text] : files) {
        if (!starts_with(path, "keys/")) continue;
        if (ends_with(path, kRootSuffix)) {
            auto root = parse_root(text, path);
            if (!root) report.problems.push_back(root.error().message);
            else if (!given.root(root->key.keyid()))
                report.notes.push_back(fmt::format("{}: root {} ({}) is not one of your trusted roots; the bundle's copy of a root is never trusted",
                                                   path, root->name, root->key.keyid()));
            continue;
        }
        if (ends_with(path, kEndorsementSuffix)) {
            if (!files.count(path.substr(0, path.size() - std::string_view(kEndorsementSuffix).size())))
                report.problems.push_back(fmt::format("{}: endorses a binding the bundle does not hold", path));
            continue;
        }
        if (!ends_with(path, ".pub")) {
            report.problems.push_back(fmt::format("{}: not a key binding (.pub), endorsement or root key", path));
            continue;
        }
        auto binding = parse_binding(text, path);
        if (!binding) {
            report.problems.push_back(binding.error().message);
            continue;
        }
        bool known = false;
        for (const auto& b : given.bindings()) known = known || same_binding(b, *binding);
        auto endorsement = files.find(path + kEndorsementSuffix);
        if (endorsement != files.end() && !known) {
            if (auto r = effective.add_endorsed(text, endorsement->second, path); !r) report.problems.push_back(r.error().message);
            continue;
        }
        if (!known)
            report.problems.push_back(fmt::format("{}: key {} of station {} is endorsed by no root key and is not in your trust store "
                                                  "(endorse it with rigctl endorse, or trust the binding file)",
                                                  path, binding->key.keyid(), binding->station));
    }
}

void check_manifest(const std::map<std::string, std::string>& files, const TrustStore& effective, BundleReport& report) {
    auto it = files.find(kManifestPath);
    if (it == files.end()) {
        report.problems.push_back(fmt::format("{}: missing: without its signed manifest nothing in the bundle can be checked whole", kManifestPath));
        return;
    }
    auto v = verify_envelope(it->second, effective, kManifestType);
    auto manifest = manifest_from_json(v ? std::string_view(v->payload) : std::string_view{});
    if (!v) {
        report.problems.push_back(fmt::format("{}: {}", kManifestPath, v.error().message));
        return;
    }
    if (!manifest) {
        report.problems.push_back(fmt::format("{}: {}", kManifestPath, manifest.error().message));
        return;
    }
    const auto& m = *manifest;
    if (m.signer.keyid != v->keyid)
        report.problems.push_back(fmt::format("{}: signed by {} but names {} as its signer", kManifestPath, v->keyid, printable(m.signer.keyid)));
    if (m.signer.kind == "root") {
        const auto* root = effective.root(v->keyid);
        if (!root || root->name != m.signer.name)
            report.problems.push_back(fmt::format("{}: signed by {}, which is not your trusted root '{}'", kManifestPath, v->keyid, printable(m.signer.name)));
    } else if (auto bound = effective.check(v->keyid, m.signer.name, m.created_at); !bound) {
        report.problems.push_back(fmt::format("{}: {}", kManifestPath, bound.error().message));
    }
    report.signer = fmt::format("{} {} ({})", m.signer.kind, m.signer.name, v->keyid);
    report.manifest = m;
    std::set<std::string> listed;
    for (const auto& f : m.files) {
        listed.insert(f.path);
        auto file = files.find(f.path);
        if (file == files.end()) {
            report.problems.push_back(fmt::format("{}: missing from the bundle (the signed manifest lists it)", f.path));
            continue;
        }
        const auto sha = sha256_hex(file->second);
        if (sha != f.sha256 || file->second.size() != f.size)
            report.problems.push_back(fmt::format("{}: changed: sha256 {} ({} bytes) but the signed manifest says {} ({} bytes)", f.path,
                                                  sha.substr(0, 16), file->second.size(), f.sha256.substr(0, 16), f.size));
    }
    for (const auto& [path, text] : files)
        if (path != kManifestPath && !listed.count(path))
            report.problems.push_back(fmt::format("{}: not in the signed manifest (added after it was signed)", path));
}

void check_certificates(const std::map<std::string, std::string>& files, const TrustStore& effective, BundleReport& report) {
    std::vector<Item> items;
    std::vector<CheckpointItem> checkpoints;
    for (const auto& [path, text] : files) {
        if (starts_with(path, "certificates/")) items.push_back({path, text, std::nullopt});
        else if (starts_with(path, "checkpoints/")) checkpoints.push_back({path, text});
    }
    report.certificates = verify(items, effective, Chain::selection, checkpoints);
    for (const auto& item : report.certificates.items) {
        if (!item.ok) continue;
        const auto want = "certificates/" + certificate_file_name(item.serial, item.station, item.sequence);
        if (item.name != want)
            report.problems.push_back(fmt::format("{}: holds the certificate of {} station {} #{} (named {} when exported)", item.name, item.serial,
                                                  item.station, item.sequence, want));
    }
    if (report.manifest && report.manifest->certificates != items.size())
        report.problems.push_back(fmt::format("{}: says {} certificates but the bundle holds {}", kManifestPath, report.manifest->certificates, items.size()));
}

}  // namespace

BundleReport verify_bundle(const std::filesystem::path& file, const TrustStore& trust) {
    BundleReport report;
    report.file = file.string();
    auto entries = read_tar(file);
    if (!entries) {
        report.problems.push_back(entries.error().message);
        return report;
    }
    std::map<std::string, std::string> files;
    for (auto& e : *entries) {
        if (e.path != kManifestPath && e.path != "README.txt" && !starts_with(e.path, "certificates/") && !starts_with(e.path, "keys/") &&
            !starts_with(e.path, "checkpoints/"))
            report.problems.push_back(fmt::format("{}: has no place in a bundle (README.txt, manifest.dsse.json, certificates/, keys/, checkpoints/)", e.path));
        files.emplace(std::move(e.path), std::move(e.content));
    }
    TrustStore effective = trust;
    trust_keys(files, effective, report);
    check_manifest(files, effective, report);
    check_certificates(files, effective, report);
    return report;
}

}  // namespace rig::reports
