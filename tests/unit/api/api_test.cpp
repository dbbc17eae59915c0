// The HTTP API over real TCP: the role matrix (every route x every role x no, wrong, expired
// and revoked tokens), the OpenAPI description against the route table, and the server's
// bounds (body, header, connections, timeouts, a slow WebSocket client).
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "rig/api/events.hpp"
#include "rig/api/openapi.hpp"
#include "rig/api/router.hpp"
#include "rig/api/server.hpp"
#include "rig/archive/archive.hpp"
#include "tests/unit/api/http_client.hpp"

using namespace rig;
using namespace rig::api;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// A line of two nests that accepts every request: the unit under test here is the router.
struct FakeLine : Line {
    std::vector<std::string> requests;
    std::vector<station::NestView> nests() const override {
        std::vector<station::NestView> v(2);
        v[0].station = "N1";
        v[1].station = "N2";
        return v;
    }
    Result<void> known(const std::string& nest) {
        if (nest != "N1" && nest != "N2") return make_error(Errc::not_found, "no nest '" + nest + "'");
        return {};
    }
    Result<void> scan(const std::string& n, const std::string& s, const Identity& who) override {
        requests.push_back("scan " + n + " " + s + " " + who.name);
        return known(n);
    }
    Result<void> start(const std::string& n, const Identity&) override { return known(n); }
    Result<void> abort(const std::string& n, const Identity&) override { return known(n); }
    Result<void> service(const std::string& n, bool, const std::string&, const Identity&) override { return known(n); }
    Result<std::vector<std::string>> log(const std::string& n) const override { return std::vector<std::string>{"line of " + n}; }
    std::vector<PlanInfo> plans() const override { return {{"v1", std::string(64, 'a'), "{\"id\":\"v1\"}", {"v1.toml"}, {"N1", "N2"}}}; }
    std::string metrics() const override { return "rig_test 1\n"; }
};

struct TempDir {
    fs::path path;
    TempDir() {
        char t[] = "/tmp/rig-api-test-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A real Server on an ephemeral port, its io_context on a thread of its own.
struct Api {
    TempDir dir;
    FakeLine line;
    Authenticator auth{dir.path / "tokens.json"};
    EventHub hub;
    std::unique_ptr<Router> router;
    boost::asio::io_context io;
    std::unique_ptr<Server> server;
    std::thread thread;
    std::map<std::string, std::string> tokens;  // name -> secret

    explicit Api(ServerOptions so = {}) {
        fs::create_directories(dir.path / "page");
        std::ofstream(dir.path / "page" / "index.html") << "<!doctype html><title>rig</title>";
        std::ofstream(dir.path / "page" / "app.js") << "'use strict';";
        REQUIRE(archive::Archive::open(dir.path / "archive.sqlite"));
        router = std::make_unique<Router>(line, auth, RouterOptions{dir.path / "page", {dir.path / "archive.sqlite", dir.path / "trust"}, "{\"openapi\":\"3.1.0\"}"});
        so.port = 0;
        auto s = Server::open(io, so, *router, hub, [](const std::string&) {});
        REQUIRE(s);
        server = std::move(*s);
        thread = std::thread([this] { io.run(); });
    }
    ~Api() {
        boost::asio::post(io, [this] { server->close(); });
        thread.join();
    }
    unsigned short port() const { return server->port(); }
    void add(const std::string& name, Role role, std::vector<std::string> nests = {}, const std::string& expires = "") {
        auto t = create_token(auth.file(), name, role, nests, expires);
        REQUIRE_MESSAGE(t, (t ? "" : t.error().message));
        tokens[name] = t->secret;
    }
    test::HttpReply call(const std::string& method, const std::string& target, const std::string& token = "", const std::string& body = "") {
        return test::http_call(port(), method, target, token, body);
    }
};

// The concrete request of a route: its path with each {name} filled, and a body it accepts.
std::pair<std::string, std::string> concrete(const Route& r, int n) {
    std::string path = r.path;
    auto fill = [&](const std::string& name, const std::string& value) {
        if (auto at = path.find("{" + name + "}"); at != std::string::npos) path.replace(at, name.size() + 2, value);
    };
    fill("nest", "N1");
    fill("file", "app.js");
    fill("variant", "v1");
    fill("sha256", std::string(64, 'b'));
    fill("serial", "SN-1");
    fill("name", "nobody-" + std::to_string(n));
    std::string body;
    if (path.ends_with("/scan")) body = R"({"serial":"SN-1"})";
    if (path.ends_with("/service")) body = R"({"out":true,"reason":"calibration"})";
    if (std::string_view(r.method) == "POST" && path == "/api/v1/tokens") body = R"({"name":"made-)" + std::to_string(n) + R"(","role":"qa"})";
    return {path, body};
}

// The matrix as the issue states it, written here on its own: the router's table must agree.
// "-": no token needed. Roles: o operator (on its nests), e engineer, q qa, a admin.
const std::map<std::string, std::string> kExpected = {
    {"GET /", "-"},
    {"GET /static/{file}", "-"},
    {"GET /api/v1/openapi.json", "-"},
    {"GET /api/v1/whoami", "oeqa"},
    {"GET /api/v1/nests", "oeqa"},
    {"GET /api/v1/nests/{nest}", "oeqa"},
    {"POST /api/v1/nests/{nest}/scan", "oe"},
    {"POST /api/v1/nests/{nest}/start", "oe"},
    {"POST /api/v1/nests/{nest}/abort", "oe"},
    {"POST /api/v1/nests/{nest}/service", "e"},
    {"GET /api/v1/nests/{nest}/log", "e"},
    {"GET /api/v1/events", "oeqa"},
    {"GET /api/v1/plans", "e"},
    {"GET /api/v1/plans/{variant}", "e"},
    {"GET /api/v1/certificates", "eq"},
    {"GET /api/v1/certificates/{sha256}", "eq"},
    {"GET /api/v1/certificates/{sha256}/html", "eq"},
    {"GET /api/v1/units/{serial}", "eq"},
    {"GET /api/v1/keys", "qa"},
    {"GET /api/v1/tokens", "a"},
    {"POST /api/v1/tokens", "a"},
    {"DELETE /api/v1/tokens/{name}", "a"},
    {"GET /metrics", "oeqa"},
};

// What an allowed call answers (the fake line accepts all; the archive is empty).
int allowed_status(const Route& r) {
    const std::string key = std::string(r.method) + " " + r.path;
    if (key == "GET /api/v1/events") return 426;  // no Upgrade header: told to use a WebSocket
    if (key.find("/start") != std::string::npos || key.find("/abort") != std::string::npos || key.find("/service") != std::string::npos) return 202;
    if (key == "POST /api/v1/tokens") return 201;
    if (key.starts_with("GET /api/v1/certificates/{sha256}") || key == "GET /api/v1/units/{serial}" || key == "DELETE /api/v1/tokens/{name}") return 404;
    return 200;
}

}  // namespace

TEST_CASE("tokens: created with a secret shown once, stored as its sha256, refused when expired or revoked") {
    TempDir d;
    const auto file = d.path / "data" / "tokens.json";
    auto t = create_token(file, "bench3", Role::operator_, {"N1"}, "");
    REQUIRE(t);
    CHECK(t->secret.size() == 68);
    CHECK(t->secret.rfind("rig_", 0) == 0);
    const auto text = slurp(file);
    CHECK(text.find(t->secret) == std::string::npos);
    CHECK(text.find(t->token.sha256) != std::string::npos);
    CHECK((fs::status(file).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));

    Authenticator auth(file);
    auto who = auth.check("Bearer " + t->secret);
    REQUIRE(who);
    CHECK(who->name == "bench3");
    CHECK(who->may_work("N1"));
    CHECK_FALSE(who->may_work("N2"));
    CHECK(auth.check("Bearer rig_0000").error().message == "unknown token");
    CHECK(auth.check("").error().message == "no token: send the header 'Authorization: Bearer TOKEN' (rigctl token create makes one)");

    CHECK(create_token(file, "bench3", Role::qa, {}, "").error().message == "a token named 'bench3' exists (operator); revoke it first");
    CHECK(create_token(file, "x", Role::operator_, {}, "").error().message == "an operator token needs the nests it may work (--nest ID, repeatable)");
    CHECK(create_token(file, "y", Role::qa, {"N1"}, "").error().message == "only operator tokens are limited to nests; a qa token works every nest");
    CHECK(create_token(file, "z", Role::qa, {}, "2020-01-01").error().message.starts_with("expiry 2020-01-01T00:00:00Z is not in the future"));
    CHECK(create_token(file, "z", Role::qa, {}, "tomorrow").error().message == "expiry 'tomorrow' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");

    auto r = revoke_token(file, "bench3");
    REQUIRE(r);
    CHECK(auth.check(t->secret).error().message == "token 'bench3' was revoked at " + r->revoked_at);
    CHECK(revoke_token(file, "bench3").error().code == Errc::not_found);

    // An expiry that passed: written as a station's file would hold it after the date.
    auto e = create_token(file, "temp", Role::engineer, {}, "2099-01-01");
    REQUIRE(e);
    auto s = slurp(file);
    s.replace(s.find("2099-01-01T00:00:00Z"), 20, "2021-06-01T00:00:00Z");
    std::ofstream(file) << s;
    CHECK(auth.check(e->secret).error().message == "token 'temp' expired at 2021-06-01T00:00:00Z");

    std::ofstream(file) << "{\"tokens\":[{\"name\":\"a\",\"role\":\"boss\",\"sha256\":\"" << std::string(64, '0') << "\",\"created_at\":\"x\"}]}";
    CHECK(load_tokens(file).error().message == file.string() + ": token 1: key 'role': unknown role 'boss' (operator, engineer, qa, admin)");
    CHECK(auth.check(e->secret).error().message.starts_with("tokens cannot be checked: "));
}

TEST_CASE("role matrix: every route x every role x no, wrong, expired and revoked tokens") {
    Api api;
    api.add("op", Role::operator_, {"N1"});
    api.add("eng", Role::engineer);
    api.add("qa", Role::qa);
    api.add("admin", Role::admin);
    api.add("gone", Role::engineer);
    REQUIRE(revoke_token(api.auth.file(), "gone"));
    api.add("old", Role::admin, {}, "2099-01-01");
    {
        auto s = slurp(api.auth.file());
        s.replace(s.find("2099-01-01T00:00:00Z"), 20, "2021-06-01T00:00:00Z");
        std::ofstream(api.auth.file()) << s;
    }
    const std::map<char, std::string> role_token = {{'o', "op"}, {'e', "eng"}, {'q', "qa"}, {'a', "admin"}};
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"no token", ""}, {"wrong token", "rig_" + std::string(64, 'f')}, {"expired token", api.tokens["old"]}, {"revoked token", api.tokens["gone"]}};

    std::set<std::string> covered;
    int calls = 0, n = 0;
    for (const auto& route : routes()) {
        const std::string key = std::string(route.method) + " " + route.path;
        INFO(key);
        REQUIRE_MESSAGE(kExpected.count(key), "a route the matrix does not name");
        covered.insert(key);
        const auto& allowed = kExpected.at(key);
        for (const auto& [name, secret] : refused) {
            auto [path, body] = concrete(route, ++n);
            auto r = api.call(route.method, path, secret, body);
            ++calls;
            INFO(name);
            CHECK(r.status == (allowed == "-" ? allowed_status(route) : 401));
            if (allowed != "-") CHECK(r.www_authenticate == "Bearer realm=\"rig\"");
        }
        for (const auto& [letter, token] : role_token) {
            auto [path, body] = concrete(route, ++n);
            auto r = api.call(route.method, path, api.tokens[token], body);
            ++calls;
            INFO(token);
            const bool may = allowed == "-" || allowed.find(letter) != std::string::npos;
            CHECK(r.status == (may ? allowed_status(route) : 403));
        }
        if (allowed.find('o') != std::string::npos && std::string(route.path).find("{nest}") != std::string::npos) {
            // An operator works its own nests only.
            auto [path, body] = concrete(route, ++n);
            path.replace(path.find("/N1"), 3, "/N2");
            auto r = api.call(route.method, path, api.tokens["op"], body);
            ++calls;
            const bool works = std::string_view(route.method) == "POST";
            CHECK(r.status == (works ? 403 : 200));
            if (works) CHECK(r.body == R"({"error":"token 'op' is not assigned to nest N2"})");
        }
    }
    CHECK(covered.size() == kExpected.size());  // 100 % of the routes, and no route the table lacks
    MESSAGE("role matrix: " << routes().size() << " routes, " << calls << " requests");
    CHECK(calls == static_cast<int>(routes().size()) * 8 + 4);
}

TEST_CASE("API answers: exact errors, the scan reaches the nest, tokens through the API, revocation at once") {
    Api api;
    api.add("op", Role::operator_, {"N1"});
    api.add("admin", Role::admin);
    auto r = api.call("POST", "/api/v1/nests/N1/scan", api.tokens["op"], R"({"serial":"SN-42"})");
    CHECK(r.status == 200);
    CHECK(json::parse(r.body).at("id") == "N1");
    r = api.call("POST", "/api/v1/nests/N1/scan", api.tokens["op"], "{serial");
    CHECK(r.status == 400);
    CHECK(r.body.starts_with(R"({"error":"request body is not JSON: )"));
    r = api.call("POST", "/api/v1/nests/N1/scan", api.tokens["op"], R"({"barcode":"SN-42"})");
    CHECK(r.body == R"({"error":"request body: missing key 'serial'"})");
    r = api.call("DELETE", "/api/v1/nests", api.tokens["op"]);
    CHECK(r.status == 405);
    CHECK(r.allow == "GET");
    r = api.call("GET", "/api/v1/nope", api.tokens["op"]);
    CHECK(r.status == 404);
    CHECK(r.body == R"({"error":"no route /api/v1/nope"})");
    r = api.call("GET", "/static/..%2Fsecret.js");
    CHECK(r.status == 404);
    r = api.call("GET", "/api/v1/whoami", "", "");
    CHECK(r.status == 401);

    // An admin makes a token over the API; its secret works; revoked, it stops working at once.
    r = api.call("POST", "/api/v1/tokens", api.tokens["admin"], R"({"name":"bench9","role":"operator","nests":["N2"]})");
    REQUIRE(r.status == 201);
    const std::string secret(json::parse(r.body).at("token").as_string());
    r = api.call("GET", "/api/v1/whoami", secret);
    CHECK(r.body == R"({"name":"bench9","role":"operator","nests":["N2"]})");
    r = api.call("GET", "/api/v1/tokens", api.tokens["admin"]);
    CHECK(r.body.find(secret) == std::string::npos);
    CHECK(api.call("DELETE", "/api/v1/tokens/bench9", api.tokens["admin"]).status == 200);
    r = api.call("GET", "/api/v1/whoami", secret);
    CHECK(r.status == 401);
    CHECK(r.body.starts_with(R"({"error":"token 'bench9' was revoked at )"));
}

TEST_CASE("OpenAPI: every route is described, every description is a route, with its access") {
    const auto source = slurp(fs::path(RIG_SOURCE_DIR) / "rig" / "api" / "openapi.json");
    CHECK(std::string(openapi_document()) == source);  // what rigd serves is the file in the repo
    auto doc = json::parse(source).as_object();
    CHECK(doc.at("openapi").as_string().starts_with("3."));
    std::set<std::string> described, served;
    for (const auto& [path, item] : doc.at("paths").as_object())
        for (const auto& [method, op] : item.as_object()) {
            std::string m(method);
            for (auto& c : m) c = static_cast<char>(std::toupper(c));
            described.insert(m + " " + std::string(path) + " " + std::string(op.at("x-rig-access").as_string()));
        }
    for (const auto& r : routes()) served.insert(std::string(r.method) + " " + r.path + " " + to_string(r.access));
    for (const auto& s : served) CHECK_MESSAGE(described.count(s), "route not described: " << s);
    for (const auto& d : described) CHECK_MESSAGE(served.count(d), "described but not served: " << d);
}

TEST_CASE("server bounds: body and header sizes, the connection cap, a silent client, a slow WebSocket client") {
    ServerOptions so;
    so.max_connections = 3;
    so.read_timeout = std::chrono::milliseconds(300);
    so.ws_queue = 4;
    Api api(so);
    api.add("eng", Role::engineer);
    auto r = api.call("POST", "/api/v1/nests/N1/scan", api.tokens["eng"], "{\"serial\":\"" + std::string(70000, 'x') + "\"}");
    CHECK(r.status == 413);
    CHECK(r.body == R"({"error":"request body over 65536 bytes"})");
    r = test::http_call(api.port(), "GET", "/api/v1/nests", "", "", "Bearer " + std::string(9000, 'x'));
    CHECK(r.status == 431);

    namespace asio = boost::asio;
    using tcp = asio::ip::tcp;
    asio::io_context io;
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), api.port());
    {
        // Three silent clients hold every slot: the fourth is told 503 at once.
        std::vector<tcp::socket> silent;
        for (int i = 0; i < 3; ++i) {
            silent.emplace_back(io);
            silent.back().connect(ep);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        r = api.call("GET", "/api/v1/nests", api.tokens["eng"]);
        CHECK(r.status == 503);
        CHECK(r.body == R"({"error":"rigd serves at most 3 connections at once"})");
        // After the read timeout the silent ones are closed, and the slots are free again.
        char c;
        boost::system::error_code ec;
        silent[0].read_some(asio::buffer(&c, 1), ec);
        CHECK(ec == asio::error::eof);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    CHECK(api.call("GET", "/api/v1/nests", api.tokens["eng"]).status == 200);

    // A WebSocket client that reads nothing while events pile up is dropped (1008), alone.
    namespace beast = boost::beast;
    beast::websocket::stream<tcp::socket> ws(io);
    ws.next_layer().connect(ep);
    ws.handshake("127.0.0.1", "/api/v1/events?access_token=" + api.tokens["eng"]);
    const std::string big(256 * 1024, 'e');
    for (int i = 0; i < 200; ++i) asio::post(api.io, [&api, big] { api.hub.publish(big); });
    beast::flat_buffer buf;
    boost::system::error_code ec;
    int messages = 0;
    for (;;) {
        ws.read(buf, ec);
        if (ec) break;
        ++messages;
        buf.consume(buf.size());
    }
    CHECK(ec == beast::websocket::error::closed);
    CHECK(ws.reason().code == beast::websocket::close_code::policy_error);
    CHECK(std::string(ws.reason().reason.data(), ws.reason().reason.size()) == "too slow: over 4 events waiting");
    CHECK(messages < 200);
    CHECK(api.call("GET", "/api/v1/nests", api.tokens["eng"]).status == 200);  // the server goes on

    // A wrong token on the WebSocket is refused before the upgrade.
    beast::websocket::stream<tcp::socket> bad(io);
    bad.next_layer().connect(ep);
    beast::websocket::response_type res;
    bad.handshake(res, "127.0.0.1", "/api/v1/events?access_token=rig_nope", ec);
    CHECK(ec);
    CHECK(res.result_int() == 401);
}
