// DSSE envelopes signed with Ed25519 (libsodium), station keys and the trust store.
#pragma once
#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "protocols/common/result.hpp"

namespace rig::reports {

inline constexpr const char* kPayloadType = "application/vnd.rig.certificate+json";

std::string sha256_hex(std::string_view data);
// DSSE pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body.
std::string pae(std::string_view payload_type, std::string_view payload);

struct PublicKey {
    std::array<unsigned char, 32> bytes{};
    std::string keyid() const;  // "ed25519:" + first 16 hex digits of sha256(key)
    std::string hex() const;
};

class StationKey {
public:
    static StationKey generate();
    // Secret key file: 128 hex digits (libsodium's 64-byte secret key), mode 0600.
    static Result<StationKey> load(const std::filesystem::path& secret_file);
    Result<void> save(const std::filesystem::path& secret_file, const std::filesystem::path& public_file) const;
    const PublicKey& public_key() const { return pub_; }
    std::array<unsigned char, 64> sign(std::string_view message) const;

private:
    std::array<unsigned char, 64> secret_{};
    PublicKey pub_;
};

// A directory of *.pub files (64 hex digits each), or single files.
class TrustStore {
public:
    Result<void> add_file(const std::filesystem::path& pub_file);
    Result<void> add_directory(const std::filesystem::path& dir);
    void add(const PublicKey& key) { keys_.push_back(key); }
    const PublicKey* find(std::string_view keyid) const;
    bool empty() const { return keys_.empty(); }

private:
    std::vector<PublicKey> keys_;
};

std::string make_envelope(std::string_view payload, const StationKey& key);

struct Verified {
    std::string payload;  // the signed bytes
    std::string keyid;
};
// Checks structure, payload type and that one signature verifies against a trusted key.
Result<Verified> verify_envelope(std::string_view envelope, const TrustStore& trust);

}  // namespace rig::reports
