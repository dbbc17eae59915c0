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

class TrustStore {
public:
    Result<void> add_file(const std::filesystem::path& pub_file);
    Result<void> add_directory(const std::filesystem::path& dir);
    void add(KeyBinding b) { bindings_.push_back(std::move(b)); }
    bool empty() const { return bindings_.empty(); }
    const std::vector<KeyBinding>& bindings() const { return bindings_; }

    const PublicKey* find(std::string_view keyid) const;
    // The error names why `keyid` may not sign for `station` at `time`.
    Result<void> check(std::string_view keyid, std::string_view station, std::string_view time) const;

private:
    std::vector<KeyBinding> bindings_;
};

std::string binding_file_name(const std::string& station, const PublicKey& key);

// Makes a new station key, crash-safe at every point: open bindings of the station are closed
// at `now`, the new public binding is written (temp, fsync, rename), then the secret (0600,
// temp, fsync, rename). A kill at any point leaves either no new secret, or a secret whose
// binding is already durable: never a key that signs what nobody can verify, never a 0-byte key.
Result<StationKey> create_station_key(const std::filesystem::path& secret_file, const std::filesystem::path& trust_dir,
                                      const std::string& station, const std::string& now);

}  // namespace rig::reports
