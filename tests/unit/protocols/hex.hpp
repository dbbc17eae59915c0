#pragma once
#include <sstream>
#include <string>

#include "protocols/common/bytes.hpp"

// "24 4D 3C" -> bytes; lets test vectors be pasted from reference/protocols.md.
inline rig::Bytes hex(const std::string& text) {
    rig::Bytes out;
    std::istringstream in(text);
    std::string tok;
    while (in >> tok) out.push_back(static_cast<std::byte>(std::stoi(tok, nullptr, 16)));
    return out;
}

inline std::string to_hex(rig::ByteView b) {
    std::string s;
    char buf[4];
    for (auto x : b) {
        std::snprintf(buf, sizeof buf, "%02X", std::to_integer<unsigned>(x));
        if (!s.empty()) s += ' ';
        s += buf;
    }
    return s;
}
