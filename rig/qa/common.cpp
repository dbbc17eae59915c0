#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reports/text.hpp"
#include "rig/qa/qa.hpp"

namespace rig::qa {
namespace fs = std::filesystem;

int fail(const std::string& message, int code) {
    fmt::print(stderr, "rigctl: {}\n", reports::printable(message));
    return code;
}

int fail(const Error& e) { return fail(e.message, e.code == Errc::io_error ? exit_io_error : exit_bad_input); }

Result<reports::TrustStore> load_trust(const std::vector<std::string>& given, const fs::path& fallback) {
    reports::TrustStore store;
    std::vector<std::string> sources = given;
    if (sources.empty()) sources.push_back(fallback.string());
    for (const auto& t : sources) {
        std::error_code ec;
        auto r = fs::is_directory(t, ec) ? store.add_directory(t) : store.add_file(t);
        if (!r) return r.error();
    }
    if (store.empty()) return make_error(Errc::not_found, fmt::format("no trusted keys in {}", fmt::join(sources, ", ")));
    return store;
}

}  // namespace rig::qa
