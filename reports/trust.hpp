// The trust store: which key may sign for which station, and when (ARCHITECTURE.md "Trust").
// A certificate or checkpoint is valid only when signed by a key bound to the station it names,
// at a time inside that binding's validity, so one station's key cannot forge another's records
// and a key retired by rotation cannot sign new ones.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "reports/dsse.hpp"

namespace rig::reports {

// One binding file per key (DATA/trust/STATION-KEYID.pub), lines of key=value:
//   station=line1-3
//   key=<64 hex digits: the Ed25519 public key>
//   not_before=2026-11-23T10:00:00.000Z
//   not_after=2027-01-01T00:00:00.000Z      (absent while the key is the station's current one)
struct KeyBinding {
    std::string station;
    PublicKey key;
    std::string not_before;  // ISO 8601 UTC, inclusive
    std::string not_after;   // ISO 8601 UTC, inclusive; empty: open
    std::string source;      // the file it came from, for messages
};
std::string to_text(const KeyBinding& b);
Result<KeyBinding> parse_binding(std::string_view text, const std::string& source);

// A root key: QA's or the factory's own key. It signs no certificate; it endorses station key
// bindings, so that a bundle's bindings can be trusted far from the factory by whoever holds
// the root's public key, and it may sign export manifests. File NAME.root.pub, lines of
// key=value:
//   root=qa-oslo
//   key=<64 hex digits: the Ed25519 public key>
// Its secret is a StationKey file (NAME.root.key, 0600): the same Ed25519 key pair.
struct RootKey {
    std::string name;
    PublicKey key;
    std::string source;
};
std::string to_text(const RootKey& r);
Result<RootKey> parse_root(std::string_view text, const std::string& source);
inline constexpr const char* kRootSuffix = ".root.pub";

// An endorsement: a DSSE envelope whose payload is a binding file's exact text, signed by a
// root key. Kept beside the binding as BINDING.pub.endorsement.json. A binding that changes
// (a key retired by rotation gains not_after) needs endorsing again.
inline constexpr const char* kBindingType = "application/vnd.rig.key-binding";
inline constexpr const char* kEndorsementSuffix = ".endorsement.json";
std::string endorse(std::string_view binding_text, const StationKey& root);

class TrustStore {
public:
    Result<void> add_file(const std::filesystem::path& pub_file);
    Result<void> add_directory(const std::filesystem::path& dir);
    void add(KeyBinding b) { bindings_.push_back(std::move(b)); }
    void add(RootKey r) { roots_.push_back(std::move(r)); }
    // A binding trusted because a root of this store endorsed its exact text; the error names
    // the source and why not (no trusted root signed it, or it signs a different text).
    Result<void> add_endorsed(std::string_view binding_text, std::string_view endorsement, const std::string& source);
    bool empty() const { return bindings_.empty() && roots_.empty(); }
    const std::vector<KeyBinding>& bindings() const { return bindings_; }
    const std::vector<RootKey>& roots() const { return roots_; }
    const RootKey* root(std::string_view keyid) const;

    // A binding's or a root's key.
    const PublicKey* find(std::string_view keyid) const;
    // The error names why `keyid` may not sign for `station` at `time`.
    Result<void> check(std::string_view keyid, std::string_view station, std::string_view time) const;

private:
    std::vector<KeyBinding> bindings_;
    std::vector<RootKey> roots_;
};

std::string binding_file_name(const std::string& station, const PublicKey& key);

// Makes a root key: NAME.root.key (0600) and NAME.root.pub in `dir`; refuses to overwrite.
Result<StationKey> create_root_key(const std::filesystem::path& dir, const std::string& name);

// Makes a new station key, crash-safe at every point: open bindings of the station are closed
// at `now`, the new public binding is written (temp, fsync, rename), then the secret (0600,
// temp, fsync, rename). A kill at any point leaves either no new secret, or a secret whose
// binding is already durable: never a key that signs what nobody can verify, never a 0-byte key.
Result<StationKey> create_station_key(const std::filesystem::path& secret_file, const std::filesystem::path& trust_dir,
                                      const std::string& station, const std::string& now);

}  // namespace rig::reports
