// The routes on certificates and keys. Archive queries run on the server's worker thread
// (Response::deferred), on a read-only connection of their own: a large query never delays
// a nest. Every row is verified (signature, key binding, columns) before it is shown.
#include <boost/json.hpp>
#include <charconv>
#include <fmt/format.h>

#include "reports/html.hpp"
#include "reports/text.hpp"
#include "rig/api/call.hpp"
#include "rig/api/handlers_common.hpp"
#include "rig/archive/verified.hpp"

namespace rig::api {

namespace json = boost::json;

namespace {

constexpr std::size_t kDefaultPage = 50, kMaxPage = 1000;

Result<reports::TrustStore> trust_of(const CertificateSource& src) {
    reports::TrustStore store;
    std::error_code ec;
    if (std::filesystem::is_directory(src.trust, ec))
        if (auto r = store.add_directory(src.trust); !r) return r.error();
    return store;
}

json::object row_json(const archive::Record& r, const reports::TrustStore& trust, bool with_certificate) {
    json::object o{{"station", r.station}, {"sequence", r.sequence}, {"serial", r.serial},         {"variant", r.variant}, {"lot", r.lot},
                   {"verdict", r.verdict}, {"created_at", r.created_at}, {"sha256", r.sha256}, {"previous_sha256", r.previous_sha256}};
    auto v = archive::verify_record(r, trust);
    if (v) o["verification"] = json::object{{"ok", true}, {"keyid", v->keyid}};
    else o["verification"] = json::object{{"ok", false}, {"problem", reports::printable(v.error().message)}};
    if (with_certificate) {
        boost::system::error_code ec;
        auto envelope = json::parse(r.envelope, ec);
        o["envelope"] = ec ? json::value(r.envelope) : envelope;
        if (v) {
            auto payload = json::parse(v->payload, ec);
            o["certificate"] = ec ? json::value(nullptr) : payload;
        }
    }
    return o;
}

// Runs `query` on the worker: opens the archive read-only and the trust store first.
template <class F>
Response off_thread(const CertificateSource& src, F query) {
    Response r;
    r.deferred = [src, query]() -> Response {
        auto a = archive::Archive::open_read_only(src.archive);
        if (!a) return error_response(503, a.error().message);
        auto trust = trust_of(src);
        if (!trust) return error_response(500, trust.error().message);
        return query(*a, *trust);
    };
    return r;
}

Result<std::size_t> count_param(const std::map<std::string, std::string>& q, const char* key, std::size_t fallback, std::size_t max) {
    auto it = q.find(key);
    if (it == q.end()) return fallback;
    std::size_t v = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v > max)
        return make_error(Errc::invalid_argument, fmt::format("query parameter '{}': '{}' is not a whole number in 0..{}", key, reports::printable(s), max));
    return v;
}

bool is_sha256(const std::string& s) { return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos; }

}  // namespace

Response get_certificates(Call& c) {
    archive::Filter f;
    static const char* known[] = {"serial", "lot", "variant", "verdict", "station", "since", "until", "limit", "offset"};
    for (const auto& [k, v] : c.query)
        if (std::find_if(std::begin(known), std::end(known), [&](const char* n) { return k == n; }) == std::end(known))
            return error_response(400, fmt::format("unknown query parameter '{}' (serial, lot, variant, verdict, station, since, until, limit, offset)",
                                                   reports::printable(k)));
    auto text = [&](const char* key) {
        auto it = c.query.find(key);
        return it == c.query.end() ? std::string{} : it->second;
    };
    f = {text("serial"), text("lot"), text("variant"), text("verdict"), text("station"), "", text("since"), text("until"), 0, 0, true};
    for (auto [key, value] : {std::pair{"since", &f.since}, {"until", &f.until}})
        if (!value->empty())
            if (auto why = reports::time_prefix_problem(*value)) return error_response(400, fmt::format("query parameter '{}': {}", key, *why));
    if (!f.verdict.empty() && f.verdict != "pass" && f.verdict != "fail" && f.verdict != "error")
        return error_response(400, fmt::format("query parameter 'verdict': '{}' is not pass, fail or error", reports::printable(f.verdict)));
    auto limit = count_param(c.query, "limit", kDefaultPage, kMaxPage);
    if (!limit) return error_response(400, limit.error().message);
    auto offset = count_param(c.query, "offset", 0, 1u << 30);
    if (!offset) return error_response(400, offset.error().message);
    f.limit = *limit == 0 ? kDefaultPage : *limit;
    f.offset = *offset;
    return off_thread(c.options.certificates, [f](archive::Archive& a, const reports::TrustStore& trust) -> Response {
        auto total = a.count(f);
        if (!total) return error_response(500, total.error().message);
        auto rows = a.query(f);
        if (!rows) return error_response(500, rows.error().message);
        json::array list;
        for (const auto& r : *rows) list.emplace_back(row_json(r, trust, false));
        return json_response(200, json::serialize(json::object{
                                      {"total", *total}, {"offset", f.offset}, {"limit", f.limit}, {"certificates", std::move(list)}}));
    });
}

Response get_certificate(Call& c) {
    const auto sha = c.param("sha256");
    if (!is_sha256(sha)) return error_response(400, fmt::format("'{}' is not a sha256 (64 lowercase hex digits)", reports::printable(sha)));
    return off_thread(c.options.certificates, [sha](archive::Archive& a, const reports::TrustStore& trust) -> Response {
        archive::Filter f;
        f.sha256 = sha;
        auto rows = a.query(f);
        if (!rows) return error_response(500, rows.error().message);
        if (rows->empty()) return error_response(404, fmt::format("no certificate with sha256 {}", sha));
        return json_response(200, json::serialize(row_json(rows->front(), trust, true)));
    });
}

// The certificate as the page rigctl show --html prints: only a certificate that verifies is
// drawn (a page of green bands for a forged row would be worse than none).
Response get_certificate_html(Call& c) {
    const auto sha = c.param("sha256");
    if (!is_sha256(sha)) return error_response(400, fmt::format("'{}' is not a sha256 (64 lowercase hex digits)", reports::printable(sha)));
    const auto name = c.options.certificates.archive.filename().string();
    return off_thread(c.options.certificates, [sha, name](archive::Archive& a, const reports::TrustStore& trust) -> Response {
        archive::Filter f;
        f.sha256 = sha;
        auto rows = a.query(f);
        if (!rows) return error_response(500, rows.error().message);
        if (rows->empty()) return error_response(404, fmt::format("no certificate with sha256 {}", sha));
        const auto& row = rows->front();
        auto v = archive::verify_record(row, trust);
        if (!v) return error_response(422, fmt::format("certificate {} is NOT VALID: {}", sha, v.error().message));
        Response r;
        r.content_type = "text/html; charset=utf-8";
        r.body = reports::certificates_html({{&*v, fmt::format("{} row #{}", name, row.id)}}, reports::utc_now());
        // The page carries its own inline style and SVG; nothing else may load, nothing may frame it.
        r.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'");
        return r;
    });
}

Response get_unit(Call& c) {
    const auto serial = c.param("serial");
    if (auto why = reports::id_problem(serial)) return error_response(400, "serial " + *why);
    return off_thread(c.options.certificates, [serial](archive::Archive& a, const reports::TrustStore& trust) -> Response {
        archive::Filter f;
        f.serial = serial;
        f.newest_first = true;
        auto rows = a.query(f);
        if (!rows) return error_response(500, rows.error().message);
        if (rows->empty()) return error_response(404, fmt::format("no certificate for serial '{}'", serial));
        json::array list;
        for (const auto& r : *rows) list.emplace_back(row_json(r, trust, true));
        return json_response(200, json::serialize(json::object{{"serial", serial}, {"certificates", std::move(list)}}));
    });
}

Response get_keys(Call& c) {
    auto trust = trust_of(c.options.certificates);
    if (!trust) return error_response(500, trust.error().message);
    json::array keys;
    for (const auto& b : trust->bindings())
        keys.emplace_back(json::object{{"station", b.station},       {"keyid", b.key.keyid()},      {"public_key", b.key.hex()},
                                       {"not_before", b.not_before}, {"not_after", b.not_after}, {"file", b.source}});
    return json_response(200, json::serialize(json::object{{"keys", std::move(keys)}}));
}

}  // namespace rig::api
