#include "rig/api/router.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "reports/text.hpp"
#include "rig/api/call.hpp"

namespace rig::api {

const char* to_string(Access a) {
    switch (a) {
    case Access::open: return "open";
    case Access::watch: return "watch";
    case Access::work: return "work";
    case Access::engineer: return "engineer";
    case Access::certificates: return "certificates";
    case Access::keys: return "keys";
    case Access::admin: return "admin";
    }
    return "admin";
}

bool allows(Access a, Role r) {
    switch (a) {
    case Access::open:
    case Access::watch: return true;
    case Access::work: return r == Role::operator_ || r == Role::engineer;
    case Access::engineer: return r == Role::engineer;
    case Access::certificates: return r == Role::qa || r == Role::engineer;
    case Access::keys: return r == Role::qa || r == Role::admin;
    case Access::admin: return r == Role::admin;
    }
    return false;
}

const std::vector<Route>& routes() {
    static const std::vector<Route> table = {
        {"GET", "/", Access::open, get_page},
        {"GET", "/static/{file}", Access::open, get_static},
        {"GET", "/api/v1/openapi.json", Access::open, get_openapi},
        {"GET", "/api/v1/whoami", Access::watch, get_whoami},
        {"GET", "/api/v1/nests", Access::watch, get_nests},
        {"GET", "/api/v1/nests/{nest}", Access::watch, get_nest},
        {"POST", "/api/v1/nests/{nest}/scan", Access::work, post_scan},
        {"POST", "/api/v1/nests/{nest}/start", Access::work, post_start},
        {"POST", "/api/v1/nests/{nest}/abort", Access::work, post_abort},
        {"POST", "/api/v1/nests/{nest}/service", Access::engineer, post_service},
        {"GET", "/api/v1/nests/{nest}/log", Access::engineer, get_log},
        {"GET", "/api/v1/events", Access::watch, get_events},
        {"GET", "/api/v1/plans", Access::engineer, get_plans},
        {"GET", "/api/v1/plans/{variant}", Access::engineer, get_plan},
        {"GET", "/api/v1/certificates", Access::certificates, get_certificates},
        {"GET", "/api/v1/certificates/{sha256}", Access::certificates, get_certificate},
        {"GET", "/api/v1/certificates/{sha256}/html", Access::certificates, get_certificate_html},
        {"GET", "/api/v1/units/{serial}", Access::certificates, get_unit},
        {"GET", "/api/v1/keys", Access::keys, get_keys},
        {"GET", "/api/v1/tokens", Access::admin, get_tokens},
        {"POST", "/api/v1/tokens", Access::admin, post_token},
        {"DELETE", "/api/v1/tokens/{name}", Access::admin, delete_token},
        {"GET", "/metrics", Access::watch, get_metrics},
    };
    return table;
}

Response json_response(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

Response error_response(int status, const std::string& message) {
    auto r = json_response(status, boost::json::serialize(boost::json::object{{"error", reports::printable(message)}}));
    if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"rig\"");
    return r;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else if (s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
    std::map<std::string, std::string> out;
    while (!q.empty()) {
        const auto amp = q.find('&');
        const auto part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        if (part.empty()) continue;
        const auto eq = part.find('=');
        out[percent_decode(part.substr(0, eq))] = eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1));
    }
    return out;
}

namespace {

std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
    }
    return out;
}

// The route's {names} from the path, or nullopt when it does not match.
std::optional<std::map<std::string, std::string>> match(const Route& r, std::string_view path) {
    const auto want = segments(r.path), got = segments(path);
    if (want.size() != got.size()) return std::nullopt;
    std::map<std::string, std::string> params;
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (want[i].size() > 2 && want[i].front() == '{') {
            auto v = percent_decode(got[i]);
            if (v.empty()) return std::nullopt;
            params[std::string(want[i].substr(1, want[i].size() - 2))] = std::move(v);
        } else if (want[i] != got[i]) {
            return std::nullopt;
        }
    }
    return params;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }
std::string_view query_of(std::string_view target) {
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

}  // namespace

Router::Router(Line& line, Authenticator& auth, RouterOptions options) : line_(line), auth_(auth), opt_(std::move(options)) {}

Response Router::handle(const Request& req) {
    const auto path = path_of(req.target);
    std::string allowed;
    for (const auto& route : routes()) {
        auto params = match(route, path);
        if (!params) continue;
        if (req.method != route.method && !(req.method == "HEAD" && std::string_view(route.method) == "GET")) {
            allowed += (allowed.empty() ? "" : ", ");
            allowed += route.method;
            continue;
        }
        Call call{req, line_, opt_, auth_, std::nullopt, std::move(*params), parse_query(query_of(req.target))};
        if (route.access != Access::open) {
            auto who = auth_.check(req.authorization);
            if (!who) return error_response(401, who.error().message);
            if (!allows(route.access, who->role))
                return error_response(403, fmt::format("token '{}' has role {}, which may not {} {}", who->name, to_string(who->role), route.method, route.path));
            call.who = std::move(*who);
        }
        if (route.access == Access::work && !call.who->may_work(call.param("nest")))
            return error_response(403, fmt::format("token '{}' is not assigned to nest {}", call.who->name, reports::printable(call.param("nest"))));
        return route.handler(call);
    }
    if (!allowed.empty()) {
        auto r = error_response(405, fmt::format("{} is not allowed on {} (allowed: {})", reports::printable(req.method), reports::printable(std::string(path)), allowed));
        r.headers.emplace_back("Allow", allowed);
        return r;
    }
    return error_response(404, fmt::format("no route {}", reports::printable(std::string(path))));
}

std::variant<Identity, Response> Router::authorize_events(const Request& req) {
    std::string credential = req.authorization;
    if (credential.empty()) {
        auto q = parse_query(query_of(req.target));
        if (auto it = q.find("access_token"); it != q.end()) credential = it->second;
    }
    auto who = auth_.check(credential);
    if (!who) return error_response(401, who.error().message);
    return std::move(*who);
}

}  // namespace rig::api
