// API tokens and roles. A token is a random secret, shown once when it is made; the station
// keeps only its sha256, with its name, role, nests and dates, in DATA/tokens.json (0600).
// rigd reads that file again whenever it changes, so a revoked token is refused at once.
// No Asio: rigctl links this too.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/result.hpp"

namespace rig::api {

// operator: scan, start and abort on its nests. engineer: every nest (and out of service),
// plans, logs, certificates. qa: certificates (read, verify). admin: tokens and keys. Every
// role may watch the nests (their state and events) and read /metrics.
enum class Role { operator_, engineer, qa, admin };
inline constexpr Role kRoles[] = {Role::operator_, Role::engineer, Role::qa, Role::admin};
const char* to_string(Role r);
std::optional<Role> role_from_string(std::string_view s);

struct Token {
    std::string name;
    Role role = Role::operator_;
    std::vector<std::string> nests;  // operator tokens: the nests it may work (empty: none)
    std::string sha256;              // of the secret
    std::string created_at, expires_at, revoked_at;  // ISO 8601 UTC; expires/revoked empty: never
};

// Who a request comes from, once its token is checked.
struct Identity {
    std::string name;
    Role role = Role::operator_;
    std::vector<std::string> nests;
    bool may_work(const std::string& nest) const;  // scan, start, abort on this nest
};

std::string now_iso8601();  // "2026-11-24T10:00:00Z"

// A missing file holds no tokens; a damaged one is an error naming the file and the entry.
Result<std::vector<Token>> load_tokens(const std::filesystem::path& file);

struct NewToken {
    Token token;
    std::string secret;  // "rig_" and 64 hex digits: shown once, never stored
};
// Adds a token (refusing a name already in use by a token not revoked) and saves the file
// atomically, 0600. `expires_at` empty: never; else an ISO 8601 date or time in the future.
Result<NewToken> create_token(const std::filesystem::path& file, const std::string& name, Role role, const std::vector<std::string>& nests,
                              const std::string& expires_at);
Result<Token> revoke_token(const std::filesystem::path& file, const std::string& name);

// Checks bearer secrets against the file, re-read when its size or time changes.
class Authenticator {
public:
    explicit Authenticator(std::filesystem::path file) : file_(std::move(file)) {}
    // The Authorization header's value ("Bearer SECRET"), or a bare secret. Errors (all
    // Errc::integrity, for 401): no token, unknown token, expired, revoked, unreadable file.
    Result<Identity> check(std::string_view credential);
    const std::filesystem::path& file() const { return file_; }

private:
    Result<void> refresh();
    std::filesystem::path file_;
    std::vector<Token> tokens_;
    std::filesystem::file_time_type mtime_{};
    std::uintmax_t size_ = static_cast<std::uintmax_t>(-1);
    bool loaded_ = false;
};

}  // namespace rig::api
