#include "rig/app/control.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <sys/un.h>

namespace rig::app {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using namespace asio::experimental::awaitable_operators;

struct ControlServer::Impl {
    local::acceptor acceptor;
    std::filesystem::path path;
    Handler handler;
    Impl(asio::io_context& io, std::filesystem::path p, Handler h) : acceptor(io), path(std::move(p)), handler(std::move(h)) {}
};

namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(2);  // a client that connects and says nothing is dropped

asio::awaitable<void> serve_one(local::socket s, ControlServer::Handler& handler) {
    std::string line;
    auto buf = asio::dynamic_buffer(line, kMaxControlRequest);
    asio::steady_timer timer(s.get_executor(), kRequestTimeout);
    auto got = co_await (asio::async_read_until(s, buf, '\n', asio::as_tuple(asio::use_awaitable)) ||
                         timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    std::string reply;
    if (got.index() == 1) reply = "error: no request within 2 s\n";
    else if (auto [ec, n] = std::get<0>(got); ec) reply = line.size() >= kMaxControlRequest ? "error: request longer than 512 bytes\n" : "";
    else {
        line.resize(n - 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        reply = handler(line);
        if (reply.empty() || reply.back() != '\n') reply += '\n';
    }
    if (!reply.empty()) co_await asio::async_write(s, asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
    boost::system::error_code ignored;
    s.shutdown(local::socket::shutdown_both, ignored);
}

asio::awaitable<void> accept_loop(ControlServer::Impl& impl) {
    for (;;) {
        auto [ec, s] = co_await impl.acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;  // closed
        asio::co_spawn(impl.acceptor.get_executor(), serve_one(std::move(s), impl.handler), asio::detached);
    }
}

}  // namespace

std::unique_ptr<ControlServer> ControlServer::open(asio::io_context& io, const std::filesystem::path& path, Handler handler, std::string& error) {
    if (path.string().size() >= sizeof(sockaddr_un::sun_path)) {
        error = path.string() + ": control socket path longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes";
        return nullptr;
    }
    auto impl = std::make_unique<Impl>(io, path, std::move(handler));
    std::error_code fe;
    std::filesystem::remove(path, fe);  // a stale socket of a rigd that died: the data lock is ours
    boost::system::error_code ec;
    const local::endpoint ep(path.string());
    impl->acceptor.open(ep.protocol(), ec);
    if (!ec) impl->acceptor.bind(ep, ec);
    if (!ec) impl->acceptor.listen(8, ec);
    if (ec) {
        error = path.string() + ": control socket: " + ec.message();
        return nullptr;
    }
    std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                           std::filesystem::perms::group_read | std::filesystem::perms::group_write, fe);
    auto server = std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
    asio::co_spawn(io, accept_loop(*server->impl_), asio::detached);
    return server;
}

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlServer::~ControlServer() { close(); }

void ControlServer::close() {
    if (!impl_->acceptor.is_open()) return;
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    std::error_code fe;
    std::filesystem::remove(impl_->path, fe);
}

}  // namespace rig::app
