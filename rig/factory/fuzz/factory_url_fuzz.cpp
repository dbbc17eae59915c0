// Fuzz target for what rig/factory makes of text from outside: a factory archive's location
// (command line, jig file) and the rows it sends in one statement.
//   - redact() never fails and is idempotent; for a URL, a query parameter or a key=value
//     string built from the input, its password is hidden and nothing else changes;
//   - array_literal() parses back (PostgreSQL's quoted array element syntax) to its items.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "rig/factory/pg.hpp"

namespace {

using rig::factory::pg::array_literal;
using rig::factory::pg::redact;

std::string_view g_input;  // for the message when a property fails

void expect(bool ok) {
    if (ok) return;
    std::fprintf(stderr, "factory_url_fuzz: a property fails for the input (%zu bytes):", g_input.size());
    for (unsigned char c : g_input) std::fprintf(stderr, " %02x", c);
    std::fprintf(stderr, "\n");
    std::abort();
}

// The input's bytes in parts split at '\x01', keeping only bytes allowed in a part.
std::vector<std::string> parts(std::string_view in, std::string_view banned) {
    std::vector<std::string> out(1);
    for (char c : in) {
        if (c == '\x01') out.emplace_back();
        else if (banned.find(c) == std::string_view::npos && c != '\0') out.back() += c;
    }
    return out;
}

// PostgreSQL's reading of {"a","b\"c"}: every element quoted, '\' escapes the next byte.
std::vector<std::string> parse_array(std::string_view s) {
    std::vector<std::string> out;
    expect(s.size() >= 2 && s.front() == '{' && s.back() == '}');
    std::size_t i = 1;
    while (i < s.size() - 1) {
        expect(s[i] == '"');
        std::string item;
        for (++i; s[i] != '"'; ++i) {
            if (s[i] == '\\') ++i;
            item += s[i];
        }
        out.push_back(std::move(item));
        ++i;
        if (s[i] == ',') ++i;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    g_input = in;
    const auto once = redact(in);
    expect(redact(once) == once);

    if (in.find("password") == std::string_view::npos && in.find("***") == std::string_view::npos) {
        auto p = parts(in, "@/?#:& '=");
        p.resize(3);
        const auto& user = p[0];
        const auto& pass = p[1];
        const auto& host = p[2];
        if (!pass.empty()) {
            expect(redact("postgresql://" + user + ":" + pass + "@" + host + "/rig") == "postgresql://" + user + ":***@" + host + "/rig");
            expect(redact("postgres://" + host + "/rig?sslmode=disable&password=" + pass + "&user=" + user) ==
                   "postgres://" + host + "/rig?sslmode=disable&password=***&user=" + user);
            expect(redact("host=" + host + " password=" + pass + " dbname=rig") == "host=" + host + " password=*** dbname=rig");
        }
        // An unencoded '@' in the password: still hidden, up to the authority's last '@'.
        if (!pass.empty() && !host.empty())
            expect(redact("postgresql://" + user + ":" + pass + "@" + pass + "@" + host) == "postgresql://" + user + ":***@" + host);
        if (pass.empty()) expect(redact("postgresql://" + user + "@" + host + "/rig") == "postgresql://" + user + "@" + host + "/rig");
    }

    std::vector<std::string> items;
    std::string item;
    for (char c : in) {
        if (c == '\x02') items.push_back(std::exchange(item, {}));
        else if (c != '\0') item += c;  // a text parameter has no NUL
    }
    items.push_back(item);
    expect(parse_array(array_literal(items)) == items);
    return 0;
}
