// A blocking HTTP/1.1 client for the API tests, over a real TCP socket to a real Server.
#pragma once
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>

namespace rig::test {

struct HttpReply {
    int status = 0;
    std::string body, content_type, www_authenticate, allow;
};

inline HttpReply http_call(unsigned short port, const std::string& method, const std::string& target, const std::string& token = "",
                           const std::string& body = "", const std::string& raw_authorization = "") {
    namespace beast = boost::beast;
    namespace http = beast::http;
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!raw_authorization.empty()) req.set(http::field::authorization, raw_authorization);
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    beast::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    return {static_cast<int>(res.result_int()), res.body(), std::string(res[http::field::content_type]), std::string(res[http::field::www_authenticate]),
            std::string(res[http::field::allow])};
}

}  // namespace rig::test
