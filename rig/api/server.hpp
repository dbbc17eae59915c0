// The HTTP/1.1 and WebSocket server (Boost.Beast) on rigd's io_context. Requests go to the
// Router; GET /api/v1/events upgrades to a WebSocket fed by the EventHub. Bounded: header and
// body sizes, a time limit on every read and write, a connection cap, a queue per WebSocket.
// A slow or hostile client costs its own connection, never a nest's time: archive queries run
// on a worker thread. Asio and Beast stay in server.cpp.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "protocols/common/result.hpp"

namespace boost::asio {
class io_context;
}

namespace rig::api {

class Router;
class EventHub;

struct ServerOptions {
    std::string address = "127.0.0.1";
    unsigned short port = 8080;  // 0: any free port (tests)
    std::size_t max_connections = 64;
    std::size_t max_header = 8 * 1024;
    std::size_t max_body = 64 * 1024;
    std::chrono::milliseconds read_timeout{15000};   // a request's head and body; also the keep-alive idle time
    std::chrono::milliseconds write_timeout{15000};
    std::size_t ws_queue = 256;  // events waiting for one WebSocket client before it is dropped as too slow
    // PEM files: with both, every connection is HTTPS / WSS (TLS 1.2 or 1.3); with neither, plain.
    std::string tls_cert, tls_key;
};

// Checks the TLS options' files (both or neither; PEM; the key is the certificate's) without
// listening: rigd checks them before it writes anything.
Result<void> check_tls(const ServerOptions& options);

class Server {
public:
    using Log = std::function<void(const std::string&)>;
    static Result<std::unique_ptr<Server>> open(boost::asio::io_context& io, const ServerOptions& options, Router& router, EventHub& hub, Log log);
    ~Server();
    unsigned short port() const;  // the port bound
    std::size_t connections() const;
    void close();  // stops accepting and closes every connection
    struct Impl;

private:
    explicit Server(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace rig::api
