#include "rig/api/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <fmt/format.h>
#include <map>

#include "reports/text.hpp"
#include "rig/api/events.hpp"
#include "rig/api/router.hpp"

namespace rig::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Server::Impl {
    asio::io_context& io;
    ServerOptions opt;
    Router& router;
    EventHub& hub;
    Log log;
    tcp::acceptor acceptor;
    asio::thread_pool worker{1};  // archive queries
    std::size_t active = 0;
    std::uint64_t next_id = 0;
    std::map<std::uint64_t, std::function<void()>> closers;  // each live connection's socket close
    bool closed = false;
    std::optional<asio::ssl::context> tls;  // with --tls-cert/--tls-key: every connection is TLS

    Impl(asio::io_context& i, ServerOptions o, Router& r, EventHub& h, Log l)
        : io(i), opt(std::move(o)), router(r), hub(h), log(std::move(l)), acceptor(i) {}
};

namespace {

using Plain = beast::tcp_stream;
using Tls = beast::ssl_stream<beast::tcp_stream>;
using HttpResponse = http::response<http::string_body>;

HttpResponse to_http(const Response& r, unsigned version, bool keep_alive, bool head) {
    HttpResponse res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "rigd");
    res.set(http::field::content_type, r.content_type);
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    if (r.content_type.rfind("text/html", 0) == 0)
        res.set("Content-Security-Policy",
                "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
    else if (r.content_type == "application/json")
        res.set(http::field::cache_control, "no-store");
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    res.body() = r.body;
    res.prepare_payload();
    if (head) res.body().clear();
    return res;
}

asio::awaitable<Response> run_deferred(std::function<Response()> work) { co_return work(); }

struct WsQueue {
    std::deque<EventHub::Message> messages;
    asio::steady_timer wake;
    bool too_slow = false;
    explicit WsQueue(asio::any_io_executor ex) : wake(ex, asio::steady_timer::time_point::max()) {}
};

template <class Stream>
void close_socket(Stream& stream) {
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);
}

// The end of a connection: TLS says close_notify first (bounded by the write timeout).
template <class Stream>
asio::awaitable<void> finish(Stream& stream, std::chrono::milliseconds timeout) {
    if constexpr (std::is_same_v<Stream, Tls>) {
        beast::get_lowest_layer(stream).expires_after(timeout);
        co_await stream.async_shutdown(kTuple);
    }
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
}

template <class Stream>
asio::awaitable<void> ws_reader(websocket::stream<Stream>& ws) {
    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, n] = co_await ws.async_read(buffer, kTuple);
        if (ec) co_return;  // closed by the client, or the connection lost
        buffer.consume(n);  // the events socket is one-way: what a client sends is read and dropped
    }
}

template <class Stream>
asio::awaitable<void> ws_writer(websocket::stream<Stream>& ws, std::shared_ptr<WsQueue> q, std::size_t cap) {
    for (;;) {
        while (!q->messages.empty()) {
            auto m = std::move(q->messages.front());
            q->messages.pop_front();
            auto [ec, n] = co_await ws.async_write(asio::buffer(*m), kTuple);
            if (ec) co_return;
        }
        if (q->too_slow) {
            const websocket::close_reason why(websocket::close_code::policy_error, fmt::format("too slow: over {} events waiting", cap));
            co_await ws.async_close(why, kTuple);
            co_return;
        }
        q->wake.expires_at(asio::steady_timer::time_point::max());
        co_await q->wake.async_wait(kTuple);
    }
}

template <class Stream>
asio::awaitable<void> serve_events(Server::Impl& s, Stream stream, http::request<http::string_body> req, std::uint64_t id) {
    websocket::stream<Stream> ws(std::move(stream));
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.read_message_max(4096);
    ws.text(true);
    s.closers[id] = [&ws] { close_socket(ws); };
    auto [ec] = co_await ws.async_accept(req, kTuple);
    if (ec) co_return;
    auto q = std::make_shared<WsQueue>(ws.get_executor());
    if (s.hub.snapshot) q->messages.push_back(std::make_shared<const std::string>(s.hub.snapshot()));
    const auto cap = s.opt.ws_queue;
    const auto sub = s.hub.subscribe([w = std::weak_ptr<WsQueue>(q), cap](const EventHub::Message& m) {
        auto q = w.lock();
        if (!q || q->too_slow) return;
        if (q->messages.size() >= cap) q->too_slow = true;
        else q->messages.push_back(m);
        q->wake.cancel();
    });
    co_await (ws_reader(ws) || ws_writer(ws, q, cap));
    s.hub.unsubscribe(sub);
    if (q->too_slow) s.log(fmt::format("event=api_client_dropped reason=\"over {} events waiting\"", cap));
}

// One connection: requests in turn (keep-alive), or one upgrade to the events WebSocket.
template <class Stream>
asio::awaitable<void> serve(Server::Impl& s, Stream stream, std::uint64_t id) {
    s.closers[id] = [&stream] { close_socket(stream); };
    if constexpr (std::is_same_v<Stream, Tls>) {
        beast::get_lowest_layer(stream).expires_after(s.opt.read_timeout);
        auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
        if (ec) {  // plain HTTP on the TLS port, an untrusted certificate, a port scan
            s.log(fmt::format("event=api_tls_refused error=\"{}\"", reports::printable(ec.message())));
            co_return;
        }
    }
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(s.opt.max_header));
        parser.body_limit(s.opt.max_body);
        beast::get_lowest_layer(stream).expires_after(s.opt.read_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset || ec == asio::error::bad_descriptor || ec == asio::ssl::error::stream_truncated)
            break;
        Response res;
        bool close_after = false;
        unsigned version = 11;
        if (ec == http::error::body_limit) {
            res = error_response(413, fmt::format("request body over {} bytes", s.opt.max_body));
            close_after = true;
        } else if (ec == http::error::header_limit) {
            res = error_response(431, fmt::format("request header over {} bytes", s.opt.max_header));
            close_after = true;
        } else if (ec) {
            res = error_response(400, "bad HTTP request: " + ec.message());
            close_after = true;
        } else {
            auto req = parser.release();
            version = req.version();
            Request r{std::string(req.method_string()), std::string(req.target()), std::string(req[http::field::authorization]), req.body()};
            if (websocket::is_upgrade(req) && r.target.substr(0, r.target.find('?')) == "/api/v1/events" && r.method == "GET") {
                auto who = s.router.authorize_events(r);
                if (std::holds_alternative<Identity>(who)) {
                    s.closers.erase(id);
                    co_await serve_events(s, std::move(stream), std::move(req), id);
                    co_return;
                }
                res = std::get<Response>(who);
                close_after = true;
            } else {
                res = s.router.handle(r);
                if (res.deferred) res = co_await asio::co_spawn(s.worker, run_deferred(std::move(res.deferred)), asio::use_awaitable);
                close_after = !req.keep_alive();
            }
            auto out = to_http(res, version, !close_after, r.method == "HEAD");
            beast::get_lowest_layer(stream).expires_after(s.opt.write_timeout);
            auto [wec, wn] = co_await http::async_write(stream, out, kTuple);
            if (wec || close_after) break;
            continue;
        }
        auto out = to_http(res, version, false, false);
        beast::get_lowest_layer(stream).expires_after(s.opt.write_timeout);
        co_await http::async_write(stream, out, kTuple);
        break;
    }
    co_await finish(stream, s.opt.write_timeout);
}

asio::awaitable<void> serve_counted(Server::Impl& s, tcp::socket socket) {
    const auto id = ++s.next_id;
    ++s.active;
    try {
        if (s.tls) co_await serve(s, Tls(std::move(socket), *s.tls), id);
        else co_await serve(s, Plain(std::move(socket)), id);
    } catch (const std::exception& e) {
        s.log(fmt::format("event=api_connection_error error=\"{}\"", reports::printable(e.what())));
    }
    s.closers.erase(id);
    --s.active;
}

// Over the cap: the client is told so at once (after the TLS handshake, with TLS), and its
// connection closed.
template <class Stream>
asio::awaitable<void> refuse(Stream stream, std::size_t cap) {
    constexpr auto kLimit = std::chrono::seconds(2);
    beast::get_lowest_layer(stream).expires_after(kLimit);
    if constexpr (std::is_same_v<Stream, Tls>) {
        auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
        if (ec) co_return;
    }
    auto out = to_http(error_response(503, fmt::format("rigd serves at most {} connections at once", cap)), 11, false, false);
    out.set(http::field::retry_after, "1");
    co_await http::async_write(stream, out, kTuple);
    co_await finish(stream, kLimit);
}

asio::awaitable<void> accept_loop(Server::Impl& s) {
    for (;;) {
        auto [ec, socket] = co_await s.acceptor.async_accept(kTuple);
        if (ec == asio::error::operation_aborted || s.closed) co_return;
        if (ec) {
            // Out of file descriptors, say: the listener stays, and tries again shortly.
            s.log(fmt::format("event=api_accept_failed error=\"{}\"", ec.message()));
            asio::steady_timer t(s.io, std::chrono::milliseconds(100));
            co_await t.async_wait(kTuple);
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        if (s.active < s.opt.max_connections) asio::co_spawn(s.io, serve_counted(s, std::move(socket)), asio::detached);
        else if (s.tls) asio::co_spawn(s.io, refuse(Tls(std::move(socket), *s.tls), s.opt.max_connections), asio::detached);
        else asio::co_spawn(s.io, refuse(Plain(std::move(socket)), s.opt.max_connections), asio::detached);
    }
}

// TLS 1.2 and 1.3 only, with the certificate chain and key of the files given. Errors name the
// option and file.
Result<asio::ssl::context> tls_context(const ServerOptions& o) {
    if (o.tls_cert.empty() || o.tls_key.empty())
        return make_error(Errc::invalid_argument, "--tls-cert and --tls-key go together: give both, or neither");
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                    asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    boost::system::error_code ec;
    auto why = [&] { return reports::printable(ec.message()); };
    ctx.use_certificate_chain_file(o.tls_cert, ec);
    if (ec) return make_error(Errc::invalid_argument, fmt::format("--tls-cert {}: not a PEM certificate chain: {}", o.tls_cert, why()));
    ctx.use_private_key_file(o.tls_key, asio::ssl::context::pem, ec);
    const auto mismatch = [&] { return make_error(Errc::invalid_argument, fmt::format("--tls-key {}: not the key of the certificate in {}", o.tls_key, o.tls_cert)); };
    if (ec) {
        asio::ssl::context alone(asio::ssl::context::tls_server);  // a good key of another certificate?
        boost::system::error_code ec2;
        alone.use_private_key_file(o.tls_key, asio::ssl::context::pem, ec2);
        if (!ec2) return mismatch();
        return make_error(Errc::invalid_argument, fmt::format("--tls-key {}: not a PEM private key: {}", o.tls_key, why()));
    }
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) return mismatch();
    return ctx;
}

}  // namespace

Result<void> check_tls(const ServerOptions& options) {
    if (options.tls_cert.empty() && options.tls_key.empty()) return {};
    auto ctx = tls_context(options);
    if (!ctx) return ctx.error();
    return {};
}

Result<std::unique_ptr<Server>> Server::open(asio::io_context& io, const ServerOptions& options, Router& router, EventHub& hub, Log log) {
    auto impl = std::make_unique<Impl>(io, options, router, hub, std::move(log));
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(options.address, ec);
    if (ec) return make_error(Errc::invalid_argument, fmt::format("--listen: '{}' is not an IP address", reports::printable(options.address)));
    const tcp::endpoint ep(address, options.port);
    if (!options.tls_cert.empty() || !options.tls_key.empty()) {
        auto ctx = tls_context(options);
        if (!ctx) return ctx.error();
        impl->tls.emplace(std::move(*ctx));
    }
    auto& a = impl->acceptor;
    a.open(ep.protocol(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(ep, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return make_error(Errc::io_error, fmt::format("--listen {}:{}: {}", options.address, options.port, ec.message()));
    auto server = std::unique_ptr<Server>(new Server(std::move(impl)));
    asio::co_spawn(io, accept_loop(*server->impl_), asio::detached);
    return server;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
    close();
    impl_->worker.join();
}

unsigned short Server::port() const {
    boost::system::error_code ec;
    return impl_->acceptor.local_endpoint(ec).port();
}

std::size_t Server::connections() const { return impl_->active; }

void Server::close() {
    auto& s = *impl_;
    if (s.closed) return;
    s.closed = true;
    boost::system::error_code ec;
    s.acceptor.close(ec);
    auto closers = s.closers;  // a closer may end its session, which erases itself
    for (auto& [id, c] : closers) c();
}

}  // namespace rig::api
