#include <filesystem>

#include "rig/io/stream.hpp"

namespace rig::io {

std::string device_key(const std::string& uri) {
    auto s = uri.substr(0, uri.find('?'));
    const auto colon = s.find(':');
    if (colon == std::string::npos) return s;
    auto rest = s.substr(colon + 1);
    if (!rest.empty() && rest[0] == '/') {
        std::error_code ec;
        auto canon = std::filesystem::weakly_canonical(rest, ec);
        if (!ec) rest = canon.string();
        return "dev:" + rest;  // serial: and slcan: on one tty are one device
    }
    return s;
}

}  // namespace rig::io
