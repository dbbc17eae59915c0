// What the API works on: the nests of one rigd, behind an interface so the router is tested
// on its own (rigd implements it over its stations). Every call is on the io thread.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "protocols/common/result.hpp"
#include "rig/api/tokens.hpp"
#include "rig/station/nest_view.hpp"

namespace rig::api {

struct PlanInfo {
    std::string variant, sha256;
    std::string canonical;            // the resolved plan, as JSON text (what its sha256 is over)
    std::vector<std::string> files;   // the variant file and every file it extends
    std::vector<std::string> nests;   // the nests testing it
};

// The requests' errors: Errc::not_found (no such nest), Errc::invalid_argument (a barcode
// that is no serial of the variant), Errc::cancelled (the nest's state does not allow it).
class Line {
public:
    virtual ~Line() = default;
    virtual std::vector<station::NestView> nests() const = 0;
    virtual Result<void> scan(const std::string& nest, const std::string& serial, const Identity& who) = 0;
    virtual Result<void> start(const std::string& nest, const Identity& who) = 0;
    virtual Result<void> abort(const std::string& nest, const Identity& who) = 0;
    virtual Result<void> service(const std::string& nest, bool out, const std::string& reason, const Identity& who) = 0;
    virtual Result<std::vector<std::string>> log(const std::string& nest) const = 0;  // its recent log lines
    virtual std::vector<PlanInfo> plans() const = 0;
    virtual std::string metrics() const = 0;  // Prometheus text exposition format
};

// Where certificates are read from, off the io thread: the archive (read-only) and the trust
// store every certificate is verified against before it is shown.
struct CertificateSource {
    std::filesystem::path archive, trust;
};

}  // namespace rig::api
