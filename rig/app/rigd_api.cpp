#include "rig/app/rigd_api.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <fmt/format.h>

#include "reports/text.hpp"
#include "rig/api/events.hpp"
#include "rig/api/router.hpp"
#include "rig/api/server.hpp"
#include "rig/api/views.hpp"

namespace rig::app {

namespace fs = std::filesystem;

Result<std::pair<std::string, unsigned short>> parse_listen(const std::string& text) {
    const auto colon = text.rfind(':');
    auto bad = [&] {
        return make_error(Errc::invalid_argument,
                          fmt::format("--listen: '{}' is not ADDRESS:PORT (e.g. 127.0.0.1:8420, 0.0.0.0:8420, [::1]:8420) or off", reports::printable(text)));
    };
    if (colon == std::string::npos || colon == 0) return bad();
    std::string address = text.substr(0, colon);
    if (address.front() == '[') {
        if (address.back() != ']') return bad();
        address = address.substr(1, address.size() - 2);
    }
    unsigned port = 0;
    const auto ps = std::string_view(text).substr(colon + 1);
    auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
    if (ps.empty() || ec != std::errc{} || p != ps.data() + ps.size() || port > 65535) return bad();
    return std::pair{address, static_cast<unsigned short>(port)};
}

fs::path page_dir(const std::string& given, const char* argv0) {
    if (!given.empty()) return given;
    std::error_code ec;
    const auto exe = fs::canonical("/proc/self/exe", ec);
    const auto installed = (ec ? fs::path(argv0) : exe).parent_path().parent_path() / "share" / "rig" / "page";
    if (fs::exists(installed / "index.html", ec)) return installed;
#ifdef RIG_SOURCE_DIR
    return fs::path(RIG_SOURCE_DIR) / "rig" / "api" / "page";
#else
    return installed;
#endif
}

struct RigdApi::Impl {
    std::vector<Nest>& nests;
    api::Metrics metrics;
    api::EventHub hub;
    api::Authenticator auth;
    NestLine line;
    api::Router router;
    std::unique_ptr<api::Server> server;
    std::string address;
    bool tls = false;

    Impl(std::vector<Nest>& n, const ApiOptions& o, const DataPaths& paths)
        : nests(n),
          auth(paths.tokens()),
          line(nests, metrics),
          router(line, auth, api::RouterOptions{o.page_dir, {paths.archive(), paths.trust()}, o.openapi}) {
        hub.snapshot = [this] {
            boost::json::array a;
            for (const auto& v : line.nests()) a.emplace_back(api::nest_json(v));
            return boost::json::serialize(boost::json::object{{"type", "snapshot"}, {"nests", std::move(a)}});
        };
    }
};

Result<std::unique_ptr<RigdApi>> RigdApi::start(boost::asio::io_context& io, const ApiOptions& o, std::vector<Nest>& nests, const DataPaths& paths) {
    if (o.listen == "off") return std::unique_ptr<RigdApi>{};
    auto where = parse_listen(o.listen);
    if (!where) return where.error();
    auto impl = std::make_unique<Impl>(nests, o, paths);
    api::ServerOptions so;
    so.address = where->first;
    so.port = where->second;
    so.tls_cert = o.tls_cert;
    so.tls_key = o.tls_key;
    auto server = api::Server::open(io, so, impl->router, impl->hub, [](const std::string& line) { fmt::print(stderr, "rigd: {}\n", line); });
    if (!server) return server.error();
    impl->server = std::move(*server);
    impl->tls = !o.tls_cert.empty();
    impl->address = where->first.find(':') != std::string::npos ? "[" + where->first + "]" : where->first;
    return std::unique_ptr<RigdApi>(new RigdApi(std::move(impl)));
}

RigdApi::RigdApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RigdApi::~RigdApi() = default;

station::EventSink RigdApi::sink() {
    return [this](const station::NestEvent& e) {
        impl_->metrics.observe(e);
        if (impl_->hub.size() > 0) impl_->hub.publish(api::event_json(e));
    };
}

std::string RigdApi::url() const {
    return fmt::format("{}://{}:{}/", impl_->tls ? "https" : "http", impl_->address, impl_->server->port());
}

void RigdApi::close() {
    if (impl_->server) impl_->server->close();
}

}  // namespace rig::app
