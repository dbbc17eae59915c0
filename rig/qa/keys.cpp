// rigctl keygen --root and rigctl endorse: QA's own keys, which vouch for station keys so that
// bundles verify far from the factory with the root's public key alone.
#include <algorithm>
#include <fmt/format.h>

#include "reports/files.hpp"
#include "reports/text.hpp"
#include "rig/qa/qa.hpp"

namespace rig::qa {
namespace fs = std::filesystem;

int make_root_key(const fs::path& dir, const std::string& name) {
    auto key = reports::create_root_key(dir, name);
    if (!key) return fail(key.error());
    fmt::print("generated root key {} ({})\n  secret {} (keep it off the line: it vouches for every station)\n  public {} (give this to whoever "
               "verifies bundles)\n",
               name, key->public_key().keyid(), (dir / (name + ".root.key")).string(), (dir / (name + reports::kRootSuffix)).string());
    return exit_ok;
}

int endorse(const fs::path& root_key, std::vector<std::string> bindings, const fs::path& trust_dir) {
    auto key = reports::StationKey::load(root_key);
    if (!key) return fail(key.error());
    const auto name = root_key.filename().string();
    if (!name.ends_with(".root.key")) return fail(fmt::format("{}: not a root key (NAME.root.key; make one with rigctl keygen --root NAME)", root_key.string()));
    if (bindings.empty()) {
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(trust_dir, ec))
            if (e.path().extension() == ".pub" && !e.path().filename().string().ends_with(reports::kRootSuffix)) bindings.push_back(e.path().string());
        std::sort(bindings.begin(), bindings.end());
        if (bindings.empty()) return fail(fmt::format("{}: no key bindings to endorse", trust_dir.string()));
    }
    for (const auto& b : bindings) {
        auto text = reports::read_file(b, 64 * 1024);
        if (!text) return fail(text.error());
        auto parsed = reports::parse_binding(*text, b);
        if (!parsed) return fail(parsed.error());
        const fs::path out = b + reports::kEndorsementSuffix;
        if (auto w = reports::write_file_atomic(out, reports::endorse(*text, *key) + "\n", 0644); !w) return fail(w.error());
        fmt::print("endorsed {} (station {}, key {}{}) with root {}: {}\n", b, parsed->station, parsed->key.keyid(),
                   parsed->not_after.empty() ? "" : ", retired " + parsed->not_after, key->public_key().keyid(), out.string());
    }
    return exit_ok;
}

}  // namespace rig::qa
