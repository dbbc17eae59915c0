#include "rig/api/tokens.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <sodium.h>
#include <sstream>

#include "reports/dsse.hpp"
#include "reports/files.hpp"
#include "reports/text.hpp"

namespace rig::api {

namespace json = boost::json;
namespace fs = std::filesystem;

const char* to_string(Role r) {
    switch (r) {
    case Role::operator_: return "operator";
    case Role::engineer: return "engineer";
    case Role::qa: return "qa";
    case Role::admin: return "admin";
    }
    return "operator";
}

std::optional<Role> role_from_string(std::string_view s) {
    for (auto r : kRoles)
        if (s == to_string(r)) return r;
    return std::nullopt;
}

bool Identity::may_work(const std::string& nest) const {
    if (role == Role::engineer) return true;
    if (role != Role::operator_) return false;
    for (const auto& n : nests)
        if (n == nest) return true;
    return false;
}

std::string now_iso8601() { return reports::utc_now().substr(0, 19) + "Z"; }

namespace {

bool digits(std::string_view s, std::size_t at, std::size_t n) {
    for (std::size_t i = at; i < at + n; ++i)
        if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    return true;
}

// "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ", as stored; nullopt if neither.
std::optional<std::string> normal_time(std::string_view s) {
    const bool date = s.size() >= 10 && digits(s, 0, 4) && s[4] == '-' && digits(s, 5, 2) && s[7] == '-' && digits(s, 8, 2);
    if (!date) return std::nullopt;
    if (s.size() == 10) return std::string(s) + "T00:00:00Z";
    if (s.size() == 20 && s[10] == 'T' && digits(s, 11, 2) && s[13] == ':' && digits(s, 14, 2) && s[16] == ':' && digits(s, 17, 2) && s[19] == 'Z')
        return std::string(s);
    return std::nullopt;
}

Result<Token> token_from(const json::value& v, const std::string& where) {
    auto bad = [&](const std::string& why) { return make_error(Errc::invalid_argument, where + ": " + why); };
    if (!v.is_object()) return bad("not an object");
    const auto& o = v.as_object();
    Token t;
    auto text = [&](const char* key, std::string& into, bool required) -> bool {
        const auto* f = o.if_contains(key);
        if (!f) return !required;
        if (!f->is_string()) return false;
        into = std::string(f->as_string());
        return true;
    };
    std::string role;
    for (auto [key, into, required] : {std::tuple{"name", &t.name, true}, {"role", &role, true}, {"sha256", &t.sha256, true},
                                       {"created_at", &t.created_at, true}, {"expires_at", &t.expires_at, false}, {"revoked_at", &t.revoked_at, false}})
        if (!text(key, *into, required)) return bad(fmt::format("key '{}' missing or not a string", key));
    auto r = role_from_string(role);
    if (!r) return bad(fmt::format("key 'role': unknown role '{}' (operator, engineer, qa, admin)", reports::printable(role)));
    t.role = *r;
    if (t.sha256.size() != 64) return bad("key 'sha256' is not a sha256");
    if (const auto* n = o.if_contains("nests")) {
        if (!n->is_array()) return bad("key 'nests' is not an array");
        for (const auto& e : n->as_array()) {
            if (!e.is_string()) return bad("key 'nests' holds a non-string");
            t.nests.emplace_back(e.as_string());
        }
    }
    return t;
}

json::object to_json(const Token& t) {
    json::array nests;
    for (const auto& n : t.nests) nests.emplace_back(n);
    json::object o{{"name", t.name}, {"role", to_string(t.role)}, {"nests", std::move(nests)}, {"sha256", t.sha256}, {"created_at", t.created_at}};
    if (!t.expires_at.empty()) o["expires_at"] = t.expires_at;
    if (!t.revoked_at.empty()) o["revoked_at"] = t.revoked_at;
    return o;
}

Result<void> save(const fs::path& file, const std::vector<Token>& tokens) {
    if (file.has_parent_path())
        if (auto r = reports::make_directory(file.parent_path(), 0750); !r) return r.error();
    json::array a;
    for (const auto& t : tokens) a.emplace_back(to_json(t));
    std::string text = "{\"tokens\":[\n";
    for (std::size_t i = 0; i < a.size(); ++i) text += json::serialize(a[i]) + (i + 1 < a.size() ? ",\n" : "\n");
    text += "]}\n";
    return reports::write_file_atomic(file, text, 0600);
}

}  // namespace

Result<std::vector<Token>> load_tokens(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::error_code ec;
        if (!fs::exists(file, ec)) return std::vector<Token>{};
        return make_error(Errc::io_error, file.string() + ": cannot read the token file");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    boost::system::error_code ec;
    auto v = json::parse(ss.str(), ec);
    if (ec) return make_error(Errc::parse_error, file.string() + ": not JSON: " + ec.message());
    const auto* list = v.is_object() ? v.as_object().if_contains("tokens") : nullptr;
    if (!list || !list->is_array()) return make_error(Errc::parse_error, file.string() + ": no \"tokens\" array");
    std::vector<Token> out;
    for (std::size_t i = 0; i < list->as_array().size(); ++i) {
        auto t = token_from(list->as_array()[i], fmt::format("{}: token {}", file.string(), i + 1));
        if (!t) return t.error();
        out.push_back(std::move(*t));
    }
    return out;
}

Result<NewToken> create_token(const fs::path& file, const std::string& name, Role role, const std::vector<std::string>& nests,
                              const std::string& expires_at) {
    if (auto why = reports::id_problem(name)) return make_error(Errc::invalid_argument, "token name " + *why);
    for (const auto& n : nests)
        if (auto why = reports::id_problem(n)) return make_error(Errc::invalid_argument, "nest " + *why);
    if (role == Role::operator_ && nests.empty())
        return make_error(Errc::invalid_argument, "an operator token needs the nests it may work (--nest ID, repeatable)");
    if (role != Role::operator_ && !nests.empty())
        return make_error(Errc::invalid_argument, fmt::format("only operator tokens are limited to nests; a {} token works every nest", to_string(role)));
    const auto now = now_iso8601();
    std::string expires;
    if (!expires_at.empty()) {
        auto e = normal_time(expires_at);
        if (!e) return make_error(Errc::invalid_argument, fmt::format("expiry '{}' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", reports::printable(expires_at)));
        if (*e <= now) return make_error(Errc::invalid_argument, fmt::format("expiry {} is not in the future (now {})", *e, now));
        expires = *e;
    }
    auto tokens = load_tokens(file);
    if (!tokens) return tokens.error();
    for (const auto& t : *tokens)
        if (t.name == name && t.revoked_at.empty())
            return make_error(Errc::invalid_argument, fmt::format("a token named '{}' exists ({}); revoke it first", name, to_string(t.role)));
    if (sodium_init() < 0) return make_error(Errc::io_error, "libsodium failed to initialise");
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    std::string secret = "rig_";
    for (unsigned char b : raw) secret += fmt::format("{:02x}", b);
    Token t{name, role, nests, reports::sha256_hex(secret), now, expires, ""};
    tokens->push_back(t);
    if (auto r = save(file, *tokens); !r) return r.error();
    return NewToken{std::move(t), std::move(secret)};
}

Result<Token> revoke_token(const fs::path& file, const std::string& name) {
    auto tokens = load_tokens(file);
    if (!tokens) return tokens.error();
    for (auto& t : *tokens) {
        if (t.name != name || !t.revoked_at.empty()) continue;
        t.revoked_at = now_iso8601();
        if (auto r = save(file, *tokens); !r) return r.error();
        return t;
    }
    return make_error(Errc::not_found, fmt::format("{}: no token named '{}' that is not revoked", file.string(), reports::printable(name)));
}

Result<void> Authenticator::refresh() {
    std::error_code ec;
    const auto size = fs::file_size(file_, ec);
    const auto mtime = ec ? fs::file_time_type{} : fs::last_write_time(file_, ec);
    if (ec) {
        tokens_.clear();  // no file: no tokens
        loaded_ = true;
        size_ = static_cast<std::uintmax_t>(-1);
        return {};
    }
    if (loaded_ && size == size_ && mtime == mtime_) return {};
    auto t = load_tokens(file_);
    if (!t) return t.error();
    tokens_ = std::move(*t);
    size_ = size;
    mtime_ = mtime;
    loaded_ = true;
    return {};
}

Result<Identity> Authenticator::check(std::string_view credential) {
    auto refuse = [](const std::string& why) { return make_error(Errc::integrity, why); };
    if (credential.substr(0, 7) == "Bearer " || credential.substr(0, 7) == "bearer ") credential.remove_prefix(7);
    while (!credential.empty() && credential.front() == ' ') credential.remove_prefix(1);
    if (credential.empty()) return refuse("no token: send the header 'Authorization: Bearer TOKEN' (rigctl token create makes one)");
    if (auto r = refresh(); !r) return refuse("tokens cannot be checked: " + r.error().message);
    const auto hash = reports::sha256_hex(credential);
    for (const auto& t : tokens_) {
        if (sodium_memcmp(t.sha256.data(), hash.data(), 64) != 0) continue;
        if (!t.revoked_at.empty()) return refuse(fmt::format("token '{}' was revoked at {}", t.name, t.revoked_at));
        if (!t.expires_at.empty() && now_iso8601() >= t.expires_at) return refuse(fmt::format("token '{}' expired at {}", t.name, t.expires_at));
        return Identity{t.name, t.role, t.nests};
    }
    return refuse("unknown token");
}

}  // namespace rig::api
