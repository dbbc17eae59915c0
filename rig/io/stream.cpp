#include "rig/io/stream.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <fmt/format.h>
#include <libserialport.h>

#include "rig/io/asio_stream.hpp"
#include "rig/io/baud.hpp"
#include "rig/io/lock.hpp"
#include "rig/io/usb.hpp"

namespace rig::io {
namespace {

using boost::system::error_code;
using namespace boost::asio::experimental::awaitable_operators;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kConnectTimeout{3000};

Result<std::string> find_usb_serial(const PortUri& u, const std::string& uri) {
    sp_port** ports = nullptr;
    if (sp_list_ports(&ports) != SP_OK) return make_error(Errc::io_error, fmt::format("{}: cannot enumerate serial ports", uri));
    std::string found;
    for (int i = 0; ports[i]; ++i) {
        int vid = 0, pid = 0;
        if (sp_get_port_transport(ports[i]) != SP_TRANSPORT_USB) continue;
        if (sp_get_port_usb_vid_pid(ports[i], &vid, &pid) != SP_OK) continue;
        if (fmt::format("{:04x}", vid) != u.vid || fmt::format("{:04x}", pid) != u.pid) continue;
        const char* serial = sp_get_port_usb_serial(ports[i]);
        if (!u.serial.empty() && (!serial || u.serial != serial)) continue;
        found = sp_get_port_name(ports[i]);
        break;
    }
    sp_free_port_list(ports);
    if (found.empty()) return make_error(Errc::not_found, fmt::format("{}: no USB serial device with that VID:PID{}", uri, u.serial.empty() ? "" : ":SERIAL"));
    return found;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool hex4(const std::string& s) {
    return s.size() == 4 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

}  // namespace

Result<PortUri> parse_uri(const std::string& uri) {
    auto bad = [&](const std::string& why) { return make_error(Errc::invalid_argument, fmt::format("port '{}': {}", uri, why)); };
    const auto colon = uri.find(':');
    if (colon == std::string::npos) return bad("expected scheme:address (serial:, tcp:, usb-serial:, usbtmc:)");
    const std::string scheme = uri.substr(0, colon);
    std::string rest = uri.substr(colon + 1);
    PortUri u{};
    if (scheme == "serial") {
        u.scheme = PortUri::Scheme::serial;
        const auto q = rest.find('?');
        u.path = rest.substr(0, q);
        if (u.path.empty()) return bad("empty device path");
        if (q != std::string::npos) {
            const std::string query = rest.substr(q + 1);
            if (query.rfind("baud=", 0) != 0) return bad("unknown option '" + query + "' (only baud=N)");
            const std::string b = query.substr(5);
            auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), u.baud);
            if (ec != std::errc{} || p != b.data() + b.size() || u.baud == 0) return bad("baud must be a positive integer");
        }
        return u;
    }
    if (scheme == "tcp") {
        u.scheme = PortUri::Scheme::tcp;
        const auto c = rest.rfind(':');
        if (c == std::string::npos) return bad("expected tcp:HOST:PORT");
        u.path = rest.substr(0, c);
        const std::string p = rest.substr(c + 1);
        unsigned port = 0;
        auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
        if (ec != std::errc{} || ptr != p.data() + p.size() || port == 0 || port > 65535) return bad("bad TCP port number");
        u.port = static_cast<std::uint16_t>(port);
        return u;
    }
    if (scheme == "usb-serial" || scheme == "usbtmc") {
        u.scheme = scheme == "usbtmc" ? PortUri::Scheme::usbtmc : PortUri::Scheme::usb_serial;
        auto a = rest.find(':');
        if (a == std::string::npos) return bad(fmt::format("expected {}:VID:PID[:SERIAL]", scheme));
        u.vid = lower(rest.substr(0, a));
        rest = rest.substr(a + 1);
        auto b = rest.find(':');
        u.pid = lower(rest.substr(0, b));
        if (b != std::string::npos) u.serial = rest.substr(b + 1);
        if (!hex4(u.vid) || !hex4(u.pid)) return bad("VID and PID are 4 hex digits");
        if (b != std::string::npos && u.serial.empty()) return bad("empty serial number after VID:PID:");
        return u;
    }
    return bad("unknown scheme '" + scheme + "' (serial:, tcp:, usb-serial:, usbtmc:)");
}

asio::awaitable<Result<std::unique_ptr<Stream>>> open(asio::any_io_executor ex, const std::string& uri, std::string name) {
    if (name.empty()) name = uri;
    const std::string& shown = name;  // errors name the port as its user knows it
    auto u = parse_uri(uri);
    if (!u) co_return u.error();
    if (u->scheme == PortUri::Scheme::usbtmc) co_return co_await open_usbtmc(ex, *u, std::move(name));
    if (u->scheme == PortUri::Scheme::tcp) {
        // Resolve and connect are bounded: a peer whose accept queue is full would otherwise hold
        // the connect for the kernel's SYN retries (~2 minutes), deaf to SIGTERM.
        asio::ip::tcp::resolver resolver(ex);
        asio::steady_timer timer(ex, kConnectTimeout);
        auto resolved = co_await (resolver.async_resolve(u->path, std::to_string(u->port), use_nothrow) || timer.async_wait(use_nothrow));
        if (resolved.index() == 1)
            co_return make_error(Errc::timeout, fmt::format("{}: cannot resolve within {} ms", shown, kConnectTimeout.count()));
        auto [rec, endpoints] = std::get<0>(resolved);
        if (rec) co_return make_error(Errc::not_found, fmt::format("{}: cannot resolve: {}", shown, rec.message()));
        asio::ip::tcp::socket socket(ex);
        timer.expires_after(kConnectTimeout);
        auto connected = co_await (asio::async_connect(socket, endpoints, use_nothrow) || timer.async_wait(use_nothrow));
        if (connected.index() == 1)
            co_return make_error(Errc::timeout, fmt::format("{}: cannot connect: no answer within {} ms", shown, kConnectTimeout.count()));
        auto [cec, ep] = std::get<0>(connected);
        (void)ep;
        if (cec) co_return make_error(Errc::not_found, fmt::format("{}: cannot connect: {}", shown, cec.message()));
        socket.set_option(asio::ip::tcp::no_delay(true));
        co_return std::unique_ptr<Stream>(new detail::AsioStream<asio::ip::tcp::socket>(std::move(socket), std::move(name)));
    }
    std::string path = u->path;
    if (u->scheme == PortUri::Scheme::usb_serial) {
        auto found = find_usb_serial(*u, shown);
        if (!found) co_return found.error();
        path = *found;
    }
    asio::serial_port port(ex);
    error_code ec;
    port.open(path, ec);
    if (ec) co_return make_error(Errc::not_found, fmt::format("{}: cannot open {}: {}", shown, path, ec.message()));
    // One process per port: a second rigd on the same jig would interleave frames with ours.
    if (auto locked = lock_fd(port.native_handle(), path, shown); !locked) co_return locked.error();
    port.set_option(asio::serial_port_base::character_size(8), ec);
    if (!ec) port.set_option(asio::serial_port_base::parity(asio::serial_port_base::parity::none), ec);
    if (!ec) port.set_option(asio::serial_port_base::stop_bits(asio::serial_port_base::stop_bits::one), ec);
    if (!ec) port.set_option(asio::serial_port_base::flow_control(asio::serial_port_base::flow_control::none), ec);
    if (ec) co_return make_error(Errc::io_error, fmt::format("{}: cannot configure {}: {}", shown, path, ec.message()));
    // Last, after Asio's own termios writes: 420000 (CRSF) is no Bxxx constant.
    if (auto why = set_custom_baud(port.native_handle(), u->baud); !why.empty())
        co_return make_error(Errc::io_error, fmt::format("{}: cannot set {} baud on {}: {}", shown, u->baud, path, why));
    co_return std::unique_ptr<Stream>(new detail::AsioStream<asio::serial_port>(std::move(port), std::move(name)));
}

}  // namespace rig::io
