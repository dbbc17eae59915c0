// The routes on the nests, the plans and the page (router.cpp holds the table).
#include <boost/json.hpp>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "reports/text.hpp"
#include "rig/api/call.hpp"
#include "rig/api/handlers_common.hpp"
#include "rig/api/views.hpp"

namespace rig::api {

namespace json = boost::json;

Response status_of(const Error& e) {
    switch (e.code) {
    case Errc::not_found: return error_response(404, e.message);
    case Errc::invalid_argument: return error_response(422, e.message);
    case Errc::cancelled: return error_response(409, e.message);
    default: return error_response(500, e.message);
    }
}

Result<json::object> body_object(const Call& c) {
    if (c.request.body.empty()) return json::object{};
    boost::system::error_code ec;
    auto v = json::parse(c.request.body, ec);
    if (ec) return make_error(Errc::parse_error, "request body is not JSON: " + ec.message());
    if (!v.is_object()) return make_error(Errc::parse_error, "request body is not a JSON object");
    return std::move(v.as_object());
}

Result<std::string> body_text(const json::object& o, const char* key, bool required) {
    const auto* v = o.if_contains(key);
    if (!v) {
        if (required) return make_error(Errc::parse_error, fmt::format("request body: missing key '{}'", key));
        return std::string{};
    }
    if (!v->is_string()) return make_error(Errc::parse_error, fmt::format("request body: key '{}' must be a string", key));
    return std::string(v->as_string());
}

namespace {

std::optional<std::string> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const char* content_type(const std::string& name) {
    auto ends = [&](std::string_view e) { return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0; };
    if (ends(".html")) return "text/html; charset=utf-8";
    if (ends(".js")) return "text/javascript; charset=utf-8";
    if (ends(".css")) return "text/css; charset=utf-8";
    if (ends(".json")) return "application/json";
    if (ends(".svg")) return "image/svg+xml";
    if (ends(".png")) return "image/png";
    if (ends(".woff2")) return "font/woff2";
    return nullptr;
}

Response file_response(const std::filesystem::path& dir, const std::string& name) {
    // Only plain names of known types from the page's own folder: no "..", no hidden files.
    const bool plain = !name.empty() && name.front() != '.' &&
                       name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
    const char* type = plain ? content_type(name) : nullptr;
    if (!type) return error_response(404, fmt::format("no page file '{}'", reports::printable(name)));
    auto body = read_file(dir / name);
    if (!body) return error_response(404, fmt::format("no page file '{}' in {}", name, dir.string()));
    Response r;
    r.content_type = type;
    r.body = std::move(*body);
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
}

Response nest_or_404(Call& c, const std::string& id) {
    for (const auto& n : c.line.nests())
        if (n.station == id) return json_response(200, json::serialize(nest_json(n)));
    return error_response(404, fmt::format("no nest '{}' in this rigd", reports::printable(id)));
}

// An operator's request on a nest, answered with the nest as it is now.
template <class F>
Response act(Call& c, int status, F&& request) {
    auto r = request();
    if (!r) return status_of(r.error());
    auto res = nest_or_404(c, c.param("nest"));
    res.status = status;
    return res;
}

}  // namespace

Response get_page(Call& c) { return file_response(c.options.page_dir, "index.html"); }
Response get_static(Call& c) { return file_response(c.options.page_dir, c.param("file")); }
Response get_openapi(Call& c) { return json_response(200, c.options.openapi); }

Response get_whoami(Call& c) {
    json::array nests;
    for (const auto& n : c.who->nests) nests.emplace_back(n);
    return json_response(200, json::serialize(json::object{{"name", c.who->name}, {"role", to_string(c.who->role)}, {"nests", std::move(nests)}}));
}

Response get_nests(Call& c) {
    json::array a;
    for (const auto& n : c.line.nests()) a.emplace_back(nest_json(n));
    return json_response(200, json::serialize(json::object{{"nests", std::move(a)}}));
}

Response get_nest(Call& c) { return nest_or_404(c, c.param("nest")); }

Response post_scan(Call& c) {
    auto body = body_object(c);
    if (!body) return error_response(400, body.error().message);
    auto serial = body_text(*body, "serial", true);
    if (!serial) return error_response(400, serial.error().message);
    return act(c, 200, [&] { return c.line.scan(c.param("nest"), *serial, *c.who); });
}

Response post_start(Call& c) { return act(c, 202, [&] { return c.line.start(c.param("nest"), *c.who); }); }
Response post_abort(Call& c) { return act(c, 202, [&] { return c.line.abort(c.param("nest"), *c.who); }); }

Response post_service(Call& c) {
    auto body = body_object(c);
    if (!body) return error_response(400, body.error().message);
    const auto* out = body->if_contains("out");
    if (!out || !out->is_bool()) return error_response(400, "request body: key 'out' must be true (take out of service) or false (back in service)");
    auto reason = body_text(*body, "reason", false);
    if (!reason) return error_response(400, reason.error().message);
    if (out->as_bool() && reason->empty()) return error_response(400, "request body: key 'reason' is required to take a nest out of service (it is logged and shown)");
    return act(c, 202, [&] { return c.line.service(c.param("nest"), out->as_bool(), *reason, *c.who); });
}

Response get_log(Call& c) {
    auto lines = c.line.log(c.param("nest"));
    if (!lines) return status_of(lines.error());
    json::array a;
    for (const auto& l : *lines) a.emplace_back(l);
    return json_response(200, json::serialize(json::object{{"nest", c.param("nest")}, {"lines", std::move(a)}}));
}

Response get_plans(Call& c) {
    json::array a;
    for (const auto& p : c.line.plans()) {
        json::array nests;
        for (const auto& n : p.nests) nests.emplace_back(n);
        a.emplace_back(json::object{{"variant", p.variant}, {"sha256", p.sha256}, {"nests", std::move(nests)}});
    }
    return json_response(200, json::serialize(json::object{{"plans", std::move(a)}}));
}

Response get_plan(Call& c) {
    for (const auto& p : c.line.plans()) {
        if (p.variant != c.param("variant")) continue;
        json::array files, nests;
        for (const auto& f : p.files) files.emplace_back(f);
        for (const auto& n : p.nests) nests.emplace_back(n);
        boost::system::error_code ec;
        auto plan = json::parse(p.canonical, ec);
        return json_response(200, json::serialize(json::object{{"variant", p.variant}, {"sha256", p.sha256}, {"files", std::move(files)},
                                                               {"nests", std::move(nests)}, {"plan", ec ? json::value(p.canonical) : plan}}));
    }
    return error_response(404, fmt::format("no plan of variant '{}' on this rigd", reports::printable(c.param("variant"))));
}

Response get_events(Call&) {
    auto r = error_response(426, "/api/v1/events is a WebSocket: connect with an Upgrade: websocket request");
    r.headers.emplace_back("Upgrade", "websocket");
    return r;
}

Response get_metrics(Call& c) {
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = c.line.metrics();
    return r;
}

}  // namespace rig::api
