// The routes on tokens (admin): list, create (the secret is in this one answer only), revoke.
#include <boost/json.hpp>
#include <fmt/format.h>

#include "reports/text.hpp"
#include "rig/api/call.hpp"
#include "rig/api/handlers_common.hpp"

namespace rig::api {

namespace json = boost::json;

namespace {

json::object token_json(const Token& t) {
    json::array nests;
    for (const auto& n : t.nests) nests.emplace_back(n);
    return {{"name", t.name},           {"role", to_string(t.role)},   {"nests", std::move(nests)},
            {"created_at", t.created_at}, {"expires_at", t.expires_at}, {"revoked_at", t.revoked_at}};
}

}  // namespace

Response get_tokens(Call& c) {
    auto tokens = load_tokens(c.auth.file());
    if (!tokens) return error_response(500, tokens.error().message);
    json::array a;
    for (const auto& t : *tokens) a.emplace_back(token_json(t));
    return json_response(200, json::serialize(json::object{{"tokens", std::move(a)}}));
}

Response post_token(Call& c) {
    auto body = body_object(c);
    if (!body) return error_response(400, body.error().message);
    auto name = body_text(*body, "name", true);
    if (!name) return error_response(400, name.error().message);
    auto role_text = body_text(*body, "role", true);
    if (!role_text) return error_response(400, role_text.error().message);
    auto role = role_from_string(*role_text);
    if (!role) return error_response(400, fmt::format("request body: key 'role': unknown role '{}' (operator, engineer, qa, admin)", reports::printable(*role_text)));
    auto expires = body_text(*body, "expires_at", false);
    if (!expires) return error_response(400, expires.error().message);
    std::vector<std::string> nests;
    if (const auto* n = body->if_contains("nests")) {
        if (!n->is_array()) return error_response(400, "request body: key 'nests' must be an array of nest ids");
        for (const auto& e : n->as_array()) {
            if (!e.is_string()) return error_response(400, "request body: key 'nests' must be an array of nest ids");
            nests.emplace_back(e.as_string());
        }
    }
    auto made = create_token(c.auth.file(), *name, *role, nests, *expires);
    if (!made) return status_of(made.error());
    auto o = token_json(made->token);
    o["token"] = made->secret;
    return json_response(201, json::serialize(o));
}

Response delete_token(Call& c) {
    auto t = revoke_token(c.auth.file(), c.param("name"));
    if (!t) return status_of(t.error());
    return json_response(200, json::serialize(token_json(*t)));
}

}  // namespace rig::api
