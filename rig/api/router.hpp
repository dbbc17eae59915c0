// The HTTP API's routes, without a socket: a request in, a response out. The server
// (server.hpp) parses HTTP and WebSocket with Boost.Beast and calls this; tests call it too.
// Every route is in one table (routes()): the dispatcher, the OpenAPI check and the role
// matrix test all read it.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "rig/api/line.hpp"
#include "rig/api/tokens.hpp"

namespace rig::api {

struct Request {
    std::string method;         // "GET", "POST", ...
    std::string target;         // path and query, as sent
    std::string authorization;  // the Authorization header, "" if none
    std::string body;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // Work that must not run on the io thread (an archive query): the server runs it on its
    // worker thread and sends what it returns.
    std::function<Response()> deferred;
};

// Who may call a route. watch: every role. work: operators on their nests, engineers on any.
// certificates: qa and engineer. keys: qa and admin.
enum class Access { open, watch, work, engineer, certificates, keys, admin };
const char* to_string(Access a);
bool allows(Access a, Role r);

struct Call;  // a matched request, as the handlers see it (call.hpp)
using Handler = Response (*)(Call&);

struct Route {
    const char* method;
    const char* path;  // "/api/v1/nests/{nest}/scan"
    Access access;
    Handler handler;
};
const std::vector<Route>& routes();

struct RouterOptions {
    std::filesystem::path page_dir;  // the operator page's files
    CertificateSource certificates;
    std::string openapi;             // the OpenAPI document served at /api/v1/openapi.json
};

class Router {
public:
    Router(Line& line, Authenticator& auth, RouterOptions options);
    Response handle(const Request& request);
    // For the WebSocket upgrade of /api/v1/events: the identity, or the refusal to send.
    // A browser cannot set headers on a WebSocket: its token may come as ?access_token=.
    std::variant<Identity, Response> authorize_events(const Request& request);

private:
    Line& line_;
    Authenticator& auth_;
    RouterOptions opt_;
};

// Helpers shared with the handlers and the server.
Response json_response(int status, std::string body);
Response error_response(int status, const std::string& message);
std::string percent_decode(std::string_view s);
std::map<std::string, std::string> parse_query(std::string_view query);

}  // namespace rig::api
