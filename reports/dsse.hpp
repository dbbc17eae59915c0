// DSSE envelopes signed with Ed25519 (libsodium), station keys and the trust store.
#pragma once
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "protocols/common/result.hpp"

namespace rig::reports {

inline constexpr const char* kPayloadType = "application/vnd.rig.certificate+json";
inline constexpr const char* kCheckpointType = "application/vnd.rig.checkpoint+json";

class TrustStore;  // reports/trust.hpp

std::string sha256_hex(std::string_view data);
// DSSE pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body.
std::string pae(std::string_view payload_type, std::string_view payload);

struct PublicKey {
    std::array<unsigned char, 32> bytes{};
    static std::optional<PublicKey> from_hex(std::string_view hex);
    std::string keyid() const;  // "ed25519:" + first 16 hex digits of sha256(key)
    std::string hex() const;
};

class StationKey {
public:
    static StationKey generate();
    // Secret key file: 128 hex digits (libsodium's 64-byte secret key). A file that group or
    // others may read is refused: the key is the station's signature.
    static Result<StationKey> load(const std::filesystem::path& secret_file);
    std::string secret_hex() const;  // the secret file's content; see create_station_key
    const PublicKey& public_key() const { return pub_; }
    std::array<unsigned char, 64> sign(std::string_view message) const;

private:
    std::array<unsigned char, 64> secret_{};
    PublicKey pub_;
};

std::string make_envelope(std::string_view payload, const StationKey& key, std::string_view payload_type = kPayloadType);

struct Verified {
    std::string payload;  // the signed bytes
    std::string keyid;
};
// Checks structure, payload type and that one signature verifies against a key of the trust
// store. Which station that key may sign for is the caller's check (TrustStore::check), since
// the station is named inside the payload.
Result<Verified> verify_envelope(std::string_view envelope, const TrustStore& trust, std::string_view payload_type = kPayloadType);

}  // namespace rig::reports
