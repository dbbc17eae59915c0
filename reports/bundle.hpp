// Export bundles (schema rig.bundle/v1): certificates handed to someone outside the factory (a
// customer, an auditor) and verified there offline, with only the bundle and the trusted root
// keys. One tar file (optionally compressed):
//   README.txt                                   what this is and how to verify it
//   certificates/SERIAL-STATION-000042.dsse.json every selected certificate, as signed
//   keys/STATION-KEYID.pub                       every key binding of every station in it
//   keys/STATION-KEYID.pub.endorsement.json      ...and its endorsement by a root key, if any
//   keys/NAME.root.pub                           the exporting root key (information only)
//   checkpoints/STATION.checkpoint.json          each station's newest signed checkpoint
//   manifest.dsse.json                           the manifest, signed (last in the tar)
// The manifest names the sha256 and size of every other file, the selection and the counts,
// and is signed by the exporting station's key or by a root (QA) key: a changed byte, an added
// or a removed file is caught by the manifest; a changed manifest by its signature.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reports/dsse.hpp"
#include "reports/tar.hpp"
#include "reports/trust.hpp"
#include "reports/verify.hpp"

namespace rig::reports {

inline constexpr const char* kBundleSchema = "rig.bundle/v1";
inline constexpr const char* kManifestType = "application/vnd.rig.bundle-manifest+json";
inline constexpr const char* kManifestPath = "manifest.dsse.json";

struct ManifestFile {
    std::string path, sha256;
    std::uint64_t size = 0;
};

struct Manifest {
    std::string schema = kBundleSchema;
    std::string created_at;  // ISO 8601 UTC
    std::string created_by;  // "rigctl 0.1.0"
    struct {
        std::string kind;    // "station" or "root"
        std::string name;    // the station id or the root's name
        std::string keyid;
    } signer;
    std::vector<std::pair<std::string, std::string>> selection;  // {"lot","LOT-1"}, {"since","2026-11-01"}
    std::uint64_t certificates = 0;
    std::vector<std::string> stations;
    std::vector<ManifestFile> files;  // every file but the manifest, in tar order
};
std::string to_json(const Manifest& m);
Result<Manifest> manifest_from_json(std::string_view json);

// Writes a bundle file by file, keeping each file's digest for the manifest; commit() signs the
// manifest, appends it, and renames the finished bundle into place. Nothing is left on failure.
class BundleWriter {
public:
    static Result<BundleWriter> create(const std::filesystem::path& file, std::string created_at);
    Result<void> add(const std::string& path, std::string_view content);
    // Fills in the manifest's time and files, signs it with `key` and finishes the bundle.
    Result<Manifest> commit(Manifest manifest, const StationKey& key);
    std::uint64_t bytes() const { return bytes_; }
    const std::string& created_at() const { return created_at_; }

private:
    BundleWriter(TarWriter tar, std::string created_at, std::time_t mtime);
    TarWriter tar_;
    std::string created_at_;
    std::time_t mtime_;
    std::vector<ManifestFile> files_;
    std::uint64_t bytes_ = 0;
};

struct BundleReport {
    std::string file;
    std::optional<Manifest> manifest;   // as signed (or as found, when its signature fails)
    std::string signer;                 // "station line1-3 (ed25519:...)" or "root qa (ed25519:...)"
    VerifyReport certificates;          // every certificate, the chain segments, the checkpoints
    std::vector<std::string> problems;  // the bundle's own: damage, manifest, files, keys
    std::vector<std::string> notes;
    bool ok() const { return problems.empty() && certificates.ok(); }
};

// Everything in the bundle against the verifier's trust store (root keys, and any station
// bindings trusted directly): a binding in the bundle counts only when a trusted root endorsed
// it (or the store holds it already). Each problem names the file at fault.
BundleReport verify_bundle(const std::filesystem::path& file, const TrustStore& trust);

}  // namespace rig::reports
