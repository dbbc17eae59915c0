#include "reports/trust.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <functional>

#include "reports/files.hpp"
#include "reports/text.hpp"

namespace rig::reports {
namespace fs = std::filesystem;

std::string to_text(const KeyBinding& b) {
    std::string s = fmt::format("# rig station key binding: this key signs for this station only\nstation={}\nkey={}\nnot_before={}\n",
                                b.station, b.key.hex(), b.not_before);
    if (!b.not_after.empty()) s += fmt::format("not_after={}\n", b.not_after);
    return s;
}

namespace {

// Reads key=value lines (blank lines and # comments skipped, trailing spaces and CR dropped);
// `field` returns why a line is wrong, or nothing. Errors name SOURCE:LINE.
Result<void> read_key_values(std::string_view text, const std::string& source,
                             const std::function<std::string(const std::string& key, const std::string& value)>& field) {
    int line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        ++line_no;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
        if (line.empty() || line[0] == '#') continue;
        const auto eq = line.find('=');
        std::string why = eq == std::string_view::npos ? "expected key=value" : field(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
        if (!why.empty()) return make_error(Errc::invalid_argument, fmt::format("{}:{}: {}", source, line_no, why));
    }
    return {};
}

}  // namespace

Result<KeyBinding> parse_binding(std::string_view text, const std::string& source) {
    KeyBinding b;
    b.source = source;
    bool have_key = false;
    auto read = read_key_values(text, source, [&](const std::string& key, const std::string& value) -> std::string {
        if (key == "station") {
            if (auto why = id_problem(value)) return "station id " + *why;
            b.station = value;
        } else if (key == "key") {
            auto k = PublicKey::from_hex(value);
            if (!k) return "key: not an Ed25519 public key (want 64 hex digits)";
            b.key = *k;
            have_key = true;
        } else if (key == "not_before" || key == "not_after") {
            if (!is_timestamp(value)) return fmt::format("{}: '{}' is not a UTC time like 2026-11-23T10:00:00.000Z", key, printable(value));
            (key == "not_before" ? b.not_before : b.not_after) = value;
        } else {
            return fmt::format("unknown key '{}' (station, key, not_before, not_after)", printable(key));
        }
        return {};
    });
    if (!read) return read.error();
    if (b.station.empty()) return make_error(Errc::invalid_argument, fmt::format("{}: missing station= (a key bound to no station is never trusted)", source));
    if (!have_key) return make_error(Errc::invalid_argument, fmt::format("{}: missing key=", source));
    if (b.not_before.empty()) return make_error(Errc::invalid_argument, fmt::format("{}: missing not_before=", source));
    if (!b.not_after.empty() && b.not_after < b.not_before)
        return make_error(Errc::invalid_argument, fmt::format("{}: not_after {} is before not_before {}", source, b.not_after, b.not_before));
    return b;
}

std::string to_text(const RootKey& r) {
    return fmt::format("# rig root key: endorses station key bindings and signs export manifests\nroot={}\nkey={}\n", r.name, r.key.hex());
}

Result<RootKey> parse_root(std::string_view text, const std::string& source) {
    RootKey r;
    r.source = source;
    bool have_key = false;
    auto read = read_key_values(text, source, [&](const std::string& key, const std::string& value) -> std::string {
        if (key == "root") {
            if (auto why = id_problem(value)) return "root name " + *why;
            r.name = value;
        } else if (key == "key") {
            auto k = PublicKey::from_hex(value);
            if (!k) return "key: not an Ed25519 public key (want 64 hex digits)";
            r.key = *k;
            have_key = true;
        } else {
            return fmt::format("unknown key '{}' (root, key)", printable(key));
        }
        return {};
    });
    if (!read) return read.error();
    if (r.name.empty()) return make_error(Errc::invalid_argument, fmt::format("{}: missing root=", source));
    if (!have_key) return make_error(Errc::invalid_argument, fmt::format("{}: missing key=", source));
    return r;
}

std::string endorse(std::string_view binding_text, const StationKey& root) { return make_envelope(binding_text, root, kBindingType); }

Result<void> TrustStore::add_endorsed(std::string_view binding_text, std::string_view endorsement, const std::string& source) {
    TrustStore roots;
    for (const auto& r : roots_) roots.add(r);
    auto v = verify_envelope(endorsement, roots, kBindingType);
    if (!v) return make_error(Errc::integrity, fmt::format("{}: endorsement: {}", source, v.error().message));
    if (v->payload != binding_text)
        return make_error(Errc::integrity, fmt::format("{}: the endorsement by root {} signs a different text (the binding changed after it was "
                                                       "endorsed: endorse it again)", source, root(v->keyid)->name));
    auto b = parse_binding(binding_text, source);
    if (!b) return b.error();
    bindings_.push_back(std::move(*b));
    return {};
}

const RootKey* TrustStore::root(std::string_view keyid) const {
    for (const auto& r : roots_)
        if (r.key.keyid() == keyid) return &r;
    return nullptr;
}

Result<void> TrustStore::add_file(const fs::path& file) {
    auto text = read_file(file, 64 * 1024);
    if (!text) return text.error();
    if (file.filename().string().ends_with(kRootSuffix)) {
        auto r = parse_root(*text, file.string());
        if (!r) return r.error();
        roots_.push_back(std::move(*r));
        return {};
    }
    auto b = parse_binding(*text, file.string());
    if (!b) return b.error();
    bindings_.push_back(std::move(*b));
    return {};
}

Result<void> TrustStore::add_directory(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return make_error(Errc::not_found, fmt::format("{}: no such trust directory", dir.string()));
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".pub") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
        if (auto r = add_file(f); !r) return r;
    return {};
}

const PublicKey* TrustStore::find(std::string_view keyid) const {
    for (const auto& b : bindings_)
        if (b.key.keyid() == keyid) return &b.key;
    if (const auto* r = root(keyid)) return &r->key;
    return nullptr;
}

Result<void> TrustStore::check(std::string_view keyid, std::string_view station, std::string_view time) const {
    std::vector<const KeyBinding*> mine;
    for (const auto& b : bindings_)
        if (b.key.keyid() == keyid) mine.push_back(&b);
    if (mine.empty() && root(keyid))
        return make_error(Errc::integrity, fmt::format("signed by root key {} ({}), which signs no station's records", root(keyid)->name, keyid));
    if (mine.empty()) return make_error(Errc::integrity, fmt::format("signature by untrusted key {}", keyid));
    std::string others;
    for (const auto* b : mine) {
        if (b->station != station) {
            others += (others.empty() ? "" : ", ") + b->station;
            continue;
        }
        if (time < b->not_before)
            return make_error(Errc::integrity, fmt::format("key {} signed for station {} at {}, before its binding starts ({}, {})", keyid,
                                                           printable(station), printable(time), b->not_before, b->source));
        if (!b->not_after.empty() && time > b->not_after)
            return make_error(Errc::integrity, fmt::format("key {} signed for station {} at {}, after it was retired ({}, {})", keyid,
                                                           printable(station), printable(time), b->not_after, b->source));
        return {};
    }
    return make_error(Errc::integrity, fmt::format("key {} is bound to station {}, not to station {} (forged by another station's key?)", keyid,
                                                   others, printable(station)));
}

std::string binding_file_name(const std::string& station, const PublicKey& key) {
    const auto id = key.keyid();
    return station + "-" + id.substr(id.find(':') + 1) + ".pub";
}

Result<StationKey> create_station_key(const fs::path& secret_file, const fs::path& trust_dir, const std::string& station,
                                      const std::string& now) {
    if (auto why = id_problem(station)) return make_error(Errc::invalid_argument, "station id " + *why);
    std::error_code ec;
    if (fs::exists(secret_file, ec))
        return make_error(Errc::invalid_argument, fmt::format("{}: a station key exists already; move it away first", secret_file.string()));
    if (auto r = make_directory(trust_dir, 0755); !r) return r.error();
    if (secret_file.has_parent_path())
        if (auto r = make_directory(secret_file.parent_path(), 0700); !r) return r.error();
    // Retire the station's current key: what it signed up to now stays valid, nothing later.
    TrustStore existing;
    if (auto r = existing.add_directory(trust_dir); !r) return r.error();
    for (auto b : existing.bindings()) {
        if (b.station != station || !b.not_after.empty()) continue;
        b.not_after = now;
        if (auto r = write_file_atomic(b.source, to_text(b), 0644); !r) return r.error();
    }
    auto key = StationKey::generate();
    KeyBinding mine{station, key.public_key(), now, "", ""};
    if (auto r = write_file_atomic(trust_dir / binding_file_name(station, key.public_key()), to_text(mine), 0644); !r) return r.error();
    crash_point("after_binding");
    if (auto r = write_file_atomic(secret_file, key.secret_hex() + "\n", 0600); !r) return r.error();
    return key;
}

Result<StationKey> create_root_key(const fs::path& dir, const std::string& name) {
    if (auto why = id_problem(name)) return make_error(Errc::invalid_argument, "root name " + *why);
    const auto secret = dir / (name + ".root.key");
    const auto pub = dir / (name + kRootSuffix);
    std::error_code ec;
    for (const auto& f : {secret, pub})
        if (fs::exists(f, ec)) return make_error(Errc::invalid_argument, fmt::format("{}: exists already; move it away first", f.string()));
    if (!fs::is_directory(dir, ec))
        if (auto r = make_directory(dir, 0700); !r) return r.error();
    auto key = StationKey::generate();
    if (auto r = write_file_atomic(pub, to_text(RootKey{name, key.public_key(), ""}), 0644); !r) return r.error();
    if (auto r = write_file_atomic(secret, key.secret_hex() + "\n", 0600); !r) return r.error();
    return key;
}

}  // namespace rig::reports
