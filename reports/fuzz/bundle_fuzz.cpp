// libFuzzer target: a whole export bundle (tar, any compression) read and verified against a
// fixed root key, as rigctl verify does on a file handed in from outside the factory. The input
// is written to a file because libarchive and the verifier read files.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "reports/bundle.hpp"
#include "reports/tar.hpp"
#include "reports/trust.hpp"

namespace {

using namespace rig::reports;

// The root whose key signed the corpus bundle's manifest and endorsed its station's binding.
constexpr const char* kRoot = "root=qa\nkey=9ec4a3d423e8d77fb9836cfac3fda39460dd4956d7ed872b2fc8790914ea2da2\n";

const TrustStore& trust() {
    static const TrustStore store = [] {
        TrustStore t;
        if (auto r = parse_root(kRoot, "qa.root.pub")) t.add(*r);
        return t;
    }();
    return store;
}

const std::filesystem::path& scratch() {
    static const std::filesystem::path file =
        std::filesystem::temp_directory_path() / ("rig-bundle-fuzz-" + std::to_string(::getpid()) + ".tar");
    return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    {
        std::ofstream out(scratch(), std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto entries = read_tar(scratch());
    if (!entries && entries.error().message.find(scratch().string()) == std::string::npos) __builtin_trap();  // names the file
    const BundleReport report = verify_bundle(scratch(), trust());
    // A bundle that verifies has a manifest, a signer and every file it lists.
    if (report.ok() && (!report.manifest || report.signer.empty() || !entries)) __builtin_trap();
    std::error_code ec;
    std::filesystem::remove(scratch(), ec);
    return 0;
}
