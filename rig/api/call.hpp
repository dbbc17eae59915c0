// A request matched to its route, as the handlers (handlers.cpp) see it. Private to rig/api.
#pragma once
#include <map>
#include <string>

#include "rig/api/router.hpp"

namespace rig::api {

struct Call {
    const Request& request;
    Line& line;
    const RouterOptions& options;
    Authenticator& auth;
    std::optional<Identity> who;                  // absent on open routes
    std::map<std::string, std::string> params;    // the path's {names}
    std::map<std::string, std::string> query;
    const std::string& param(const char* name) const { return params.at(name); }
};

// The handlers, one per route (handlers.cpp, certificates.cpp, admin.cpp).
Response get_page(Call&);
Response get_static(Call&);
Response get_openapi(Call&);
Response get_whoami(Call&);
Response get_nests(Call&);
Response get_nest(Call&);
Response post_scan(Call&);
Response post_start(Call&);
Response post_abort(Call&);
Response post_service(Call&);
Response get_log(Call&);
Response get_plans(Call&);
Response get_plan(Call&);
Response get_certificates(Call&);
Response get_certificate(Call&);
Response get_certificate_html(Call&);
Response get_unit(Call&);
Response get_keys(Call&);
Response get_tokens(Call&);
Response post_token(Call&);
Response delete_token(Call&);
Response get_events(Call&);   // without the WebSocket upgrade: 426
Response get_metrics(Call&);  // filled by the server (metrics.hpp); the router only guards it

}  // namespace rig::api
