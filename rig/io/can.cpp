#include "rig/io/can.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <charconv>
#include <deque>
#include <cstring>
#include <fmt/format.h>
#include <linux/can.h>
#include <linux/can/error.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocols/slcan/link.hpp"
#include "rig/io/asio_stream.hpp"
#include "rig/io/pump.hpp"

namespace rig::io {

namespace {

Result<unsigned> positive(const std::string& text) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || p != text.data() + text.size() || v == 0) return make_error(Errc::invalid_argument, "not a positive integer");
    return v;
}

// SocketCAN carries whole frames: each read is one struct can_frame. This session turns the
// frame-level session's frames into those 16 bytes and back, so the one pump drives both
// transports.
class RawFrames final : public session::Session {
public:
    explicit RawFrames(CanSession& inner) : inner_(inner) {}
    void receive(ByteView bytes, session::Time now) override {
        partial_.insert(partial_.end(), bytes.begin(), bytes.end());
        std::size_t at = 0;
        for (; partial_.size() - at >= socketcan::kFrameSize; at += socketcan::kFrameSize) {
            std::string error;
            if (auto f = socketcan::decode(ByteView(partial_.data() + at, socketcan::kFrameSize), &error)) inner_.receive(*f, now);
            else if (!error.empty()) notes_.push_back("event=can_error " + error);
        }
        partial_.erase(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(at));
    }
    std::optional<Bytes> transmit(session::Time now) override {
        auto f = inner_.transmit(now);
        if (!f) return std::nullopt;
        return socketcan::encode(*f);
    }
    std::optional<session::Time> deadline() const override { return inner_.deadline(); }
    void tick(session::Time now) override { inner_.tick(now); }
    std::optional<session::Done> completed() override { return inner_.completed(); }
    void link_lost(const Error& why) override { inner_.link_lost(why); }
    void cancel(session::RequestId id) override { inner_.cancel(id); }
    std::optional<std::string> note() override {
        if (notes_.empty()) return inner_.note();
        auto n = std::move(notes_.front());
        notes_.pop_front();
        return n;
    }

private:
    CanSession& inner_;
    Bytes partial_;
    std::deque<std::string> notes_;
};

// A byte-level adapter session (slcan::Link or RawFrames) and the pump that drives it; the
// adapter is declared first so the pump goes first.
class PumpedBus final : public CanBus {
public:
    PumpedBus(asio::any_io_executor ex, std::string uri, std::unique_ptr<session::Session> adapter, std::unique_ptr<Stream> stream, Log log)
        : uri_(std::move(uri)), adapter_(std::move(adapter)), pump_(ex, std::move(stream), *adapter_, std::move(log)) {}
    asio::awaitable<Result<Bytes>> wait(session::RequestId id) override { return pump_.wait(id); }
    void kick() override { pump_.kick(); }
    const std::string& name() const override { return uri_; }
    const std::string& lost() const override { return pump_.lost(); }

private:
    std::string uri_;
    std::unique_ptr<session::Session> adapter_;
    Pump pump_;
};

Result<std::unique_ptr<Stream>> open_socketcan(asio::any_io_executor ex, const std::string& uri, const std::string& iface) {
    auto fail = [&](const std::string& what) {
        const int e = errno;
        std::string why = std::strerror(e);
        if (e == EAFNOSUPPORT) why += " (this kernel has no SocketCAN: load the can and can_raw modules)";
        return make_error(Errc::not_found, fmt::format("{}: {}: {}", uri, what, why));
    };
    const int fd = ::socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, CAN_RAW);
    if (fd < 0) return fail("cannot open a CAN_RAW socket");
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, iface.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
        auto r = fail(fmt::format("no CAN interface '{}'", iface));
        ::close(fd);
        return r;
    }
    // Bus errors (bus-off, error passive, no ACK) come in as error frames and are logged.
    can_err_mask_t errors = CAN_ERR_TX_TIMEOUT | CAN_ERR_CRTL | CAN_ERR_BUSOFF | CAN_ERR_ACK | CAN_ERR_BUSERROR;
    ::setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &errors, sizeof errors);
    sockaddr_can addr{};
    addr.can_family = AF_CAN;
    addr.can_ifindex = ifr.ifr_ifindex;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        auto r = fail(fmt::format("cannot bind to '{}'", iface));
        ::close(fd);
        return r;
    }
    asio::posix::stream_descriptor sd(ex, fd);
    return std::unique_ptr<Stream>(new detail::AsioStream<asio::posix::stream_descriptor>(std::move(sd), uri));
}

}  // namespace

Result<CanUri> parse_can_uri(const std::string& uri) {
    auto bad = [&](const std::string& why) { return make_error(Errc::invalid_argument, fmt::format("CAN port '{}': {}", uri, why)); };
    const auto colon = uri.find(':');
    const std::string scheme = colon == std::string::npos ? "" : uri.substr(0, colon);
    CanUri u;
    if (scheme == "socketcan") {
        u.scheme = CanUri::Scheme::socketcan;
        u.path = uri.substr(colon + 1);
        if (u.path.empty() || u.path.size() >= IFNAMSIZ || u.path.find_first_of("/?: ") != std::string::npos)
            return bad(fmt::format("expected socketcan:IFACE (an interface name of 1..{} characters)", IFNAMSIZ - 1));
        return u;
    }
    if (scheme != "slcan") return bad("expected slcan:/dev/TTY[?bitrate=N] or socketcan:IFACE");
    u.scheme = CanUri::Scheme::slcan;
    const std::string rest = uri.substr(colon + 1);
    const auto q = rest.find('?');
    u.path = rest.substr(0, q);
    if (u.path.empty()) return bad("empty device path");
    std::string query = q == std::string::npos ? "" : rest.substr(q + 1);
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string opt = query.substr(0, amp);
        query = amp == std::string::npos ? "" : query.substr(amp + 1);
        const auto eq = opt.find('=');
        const std::string key = opt.substr(0, eq), value = eq == std::string::npos ? "" : opt.substr(eq + 1);
        if (key != "bitrate" && key != "baud") return bad("unknown option '" + opt + "' (bitrate=N, baud=N)");
        auto v = positive(value);
        if (!v) return bad(key + " must be a positive integer");
        (key == "bitrate" ? u.bitrate : u.baud) = *v;
    }
    if (!slcan::bitrate(u.bitrate)) return bad(fmt::format("no SLCAN bitrate code for {} bit/s (10000, 20000, 50000, 100000, 125000, 250000, "
                                                           "500000, 800000, 1000000)",
                                                           u.bitrate));
    return u;
}

std::unique_ptr<CanBus> frame_bus(asio::any_io_executor ex, std::string name, std::unique_ptr<Stream> stream, CanSession& session, CanBus::Log log) {
    return std::make_unique<PumpedBus>(ex, std::move(name), std::make_unique<RawFrames>(session), std::move(stream), std::move(log));
}

asio::awaitable<Result<std::unique_ptr<CanBus>>> open_can(asio::any_io_executor ex, const std::string& uri, CanSession& session, CanBus::Log log) {
    auto u = parse_can_uri(uri);
    if (!u) co_return u.error();
    if (u->scheme == CanUri::Scheme::socketcan) {
        auto stream = open_socketcan(ex, uri, u->path);
        if (!stream) co_return stream.error();
        co_return frame_bus(ex, uri, std::move(*stream), session, std::move(log));
    }
    auto tty = co_await open(ex, fmt::format("serial:{}?baud={}", u->path, u->baud), uri);
    if (!tty) co_return tty.error();  // it names the slcan: URI
    auto bus = std::make_unique<PumpedBus>(ex, uri, std::make_unique<slcan::Link>(session, u->bitrate), std::move(*tty), std::move(log));
    // The link answers this one once the adapter accepted C, S<n> and O (or names what it refused).
    auto opened = co_await bus->wait(slcan::Link::kOpened);
    if (!opened) co_return make_error(Errc::not_found, fmt::format("{}: {}", uri, opened.error().message));
    co_return std::unique_ptr<CanBus>(std::move(bus));
}

namespace socketcan {

Bytes encode(const CanFrame& f) {
    Bytes out(kFrameSize, std::byte{0});
    std::uint32_t id = f.extended ? (f.id & CAN_EFF_MASK) | CAN_EFF_FLAG : f.id & CAN_SFF_MASK;
    if (f.rtr) id |= CAN_RTR_FLAG;
    std::memcpy(out.data(), &id, 4);  // host order, as the kernel's struct can_frame
    const std::size_t n = std::min<std::size_t>(f.data.size(), 8);
    out[4] = std::byte(f.rtr ? std::min<std::uint8_t>(f.rtr_dlc, 8) : n);
    if (!f.rtr) std::memcpy(out.data() + 8, f.data.data(), n);
    return out;
}

std::optional<CanFrame> decode(ByteView b, std::string* error) {
    if (b.size() != kFrameSize) return std::nullopt;
    std::uint32_t id = 0;
    std::memcpy(&id, b.data(), 4);
    const auto dlc = std::to_integer<std::uint8_t>(b[4]);
    if (id & CAN_ERR_FLAG) {
        if (error) {
            std::string what;
            if (id & CAN_ERR_BUSOFF) what += " bus_off";
            if (id & CAN_ERR_ACK) what += " no_ack";
            if (id & CAN_ERR_CRTL) what += " controller";
            if (id & CAN_ERR_TX_TIMEOUT) what += " tx_timeout";
            if (id & CAN_ERR_BUSERROR) what += " bus_error";
            *error = "class=" + (what.empty() ? std::string("other") : what.substr(1));
        }
        return std::nullopt;
    }
    if (dlc > 8) {
        if (error) *error = fmt::format("class=bad_dlc dlc={}", dlc);
        return std::nullopt;
    }
    CanFrame f;
    f.extended = (id & CAN_EFF_FLAG) != 0;
    f.id = id & (f.extended ? CAN_EFF_MASK : CAN_SFF_MASK);
    f.rtr = (id & CAN_RTR_FLAG) != 0;
    if (f.rtr) f.rtr_dlc = dlc;
    else f.data.assign(b.begin() + 8, b.begin() + 8 + dlc);
    return f;
}

}  // namespace socketcan

}  // namespace rig::io
