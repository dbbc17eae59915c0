// CAN transports: the slcan: bus over a real PTY with a scripted adapter at the master side (the
// adapter's answers as the Lawicel protocol gives them), the DroneCAN driver over it, and the
// SocketCAN frame layout against the kernel's struct can_frame.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <fcntl.h>
#include <linux/can.h>
#include <linux/can/error.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <atomic>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "protocols/dronecan/messages.hpp"
#include "protocols/slcan/slcan.hpp"
#include "rig/devices/esc_dronecan.hpp"
#include "protocols/dronecan/node.hpp"
#include "rig/io/asio_stream.hpp"
#include "rig/io/can.hpp"
#include "tests/unit/rig/support.hpp"
#include <boost/asio/posix/stream_descriptor.hpp>
#include <sys/socket.h>

using namespace rig;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// The adapter's side of a PTY: reads the host's lines and answers them from a script, on its own
// thread (the adapter is a separate device).
struct Adapter {
    test::PtyPair pty;
    int& master = pty.master;
    std::string& path = pty.path;
    std::function<std::string(const std::string&)> answer;  // a host line (without CR) -> the reply bytes
    std::vector<std::string> lines;
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::thread thread;

    explicit Adapter(std::function<std::string(const std::string&)> a) : answer(std::move(a)) { thread = std::thread([this] { loop(); }); }
    ~Adapter() {
        stop = true;
        thread.join();
    }
    void send(const std::string& bytes) const { REQUIRE(::write(master, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())); }
    std::vector<std::string> seen() {
        std::lock_guard lock(mu);
        return lines;
    }

private:
    void loop() {
        std::string line;
        while (!stop) {
            pollfd p{master, POLLIN, 0};
            if (::poll(&p, 1, 10) <= 0) continue;
            char buf[256];
            const auto n = ::read(master, buf, sizeof buf);
            for (ssize_t i = 0; i < n; ++i) {
                if (buf[i] != '\r') {
                    line += buf[i];
                    continue;
                }
                {
                    std::lock_guard lock(mu);
                    lines.push_back(line);
                }
                const auto reply = answer(line);
                if (!reply.empty()) send(reply);
                line.clear();
            }
        }
    }
};

using test::run_coro;

// A Lawicel adapter that opens at any rate but S6, and acknowledges frames with z/Z.
std::string lawicel(const std::string& line) {
    if (line.empty()) return "";
    if (line == "S6") return "\a";
    if (line[0] == 'T') return "Z\r";
    if (line[0] == 't') return "z\r";
    return "\r";
}


asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

std::string frame_line(std::uint8_t source, std::uint16_t type, dronecan::Kind kind, std::uint8_t dest, const Bytes& payload, std::uint64_t sig,
                       std::uint8_t tid) {
    dronecan::Transfer t;
    t.id = dronecan::CanId{kind, dronecan::priority::low, type, source, dest, 0};
    t.transfer_id = tid;
    t.payload = payload;
    std::string out;
    for (const auto& f : dronecan::encode_transfer(t, sig)) out += slcan::frame(f);
    return out;
}

}  // namespace

TEST_CASE("CAN URIs parse, and bad ones are named") {
    auto s = io::parse_can_uri("slcan:/dev/ttyACM1?bitrate=500000&baud=921600");
    REQUIRE(s);
    CHECK(s->scheme == io::CanUri::Scheme::slcan);
    CHECK(s->path == "/dev/ttyACM1");
    CHECK(s->bitrate == 500000);
    CHECK(s->baud == 921600);
    CHECK(io::parse_can_uri("slcan:/dev/ttyACM1")->bitrate == 1'000'000);  // DroneCAN's rate
    auto c = io::parse_can_uri("socketcan:can0");
    REQUIRE(c);
    CHECK(c->scheme == io::CanUri::Scheme::socketcan);
    CHECK(c->path == "can0");
    CHECK(io::parse_can_uri("slcan:/dev/x?bitrate=2000000").error().message ==
          "CAN port 'slcan:/dev/x?bitrate=2000000': no SLCAN bitrate code for 2000000 bit/s (10000, 20000, 50000, 100000, 125000, 250000, 500000, "
          "800000, 1000000)");
    CHECK(io::parse_can_uri("slcan:/dev/x?speed=1").error().message == "CAN port 'slcan:/dev/x?speed=1': unknown option 'speed=1' (bitrate=N, baud=N)");
    CHECK(io::parse_can_uri("slcan:/dev/x?bitrate=fast").error().message == "CAN port 'slcan:/dev/x?bitrate=fast': bitrate must be a positive integer");
    CHECK(io::parse_can_uri("socketcan:").error().message ==
          "CAN port 'socketcan:': expected socketcan:IFACE (an interface name of 1..15 characters)");
    CHECK(io::parse_can_uri("can0").error().message == "CAN port 'can0': expected slcan:/dev/TTY[?bitrate=N] or socketcan:IFACE");
}

TEST_CASE("SocketCAN frames are the kernel's struct can_frame, flags and all") {
    CanFrame f{0x1801550A, true, false, {std::byte{1}, std::byte{2}, std::byte{0xC3}}, 0};
    auto b = io::socketcan::encode(f);
    can_frame k{};
    REQUIRE(b.size() == sizeof k);
    std::memcpy(&k, b.data(), sizeof k);
    CHECK(k.can_id == (0x1801550Au | CAN_EFF_FLAG));
    CHECK(k.can_dlc == 3);
    CHECK(k.data[2] == 0xC3);
    CHECK(*io::socketcan::decode(b) == f);

    can_frame std_rtr{};
    std_rtr.can_id = 0x123 | CAN_RTR_FLAG;
    std_rtr.can_dlc = 4;
    Bytes raw(sizeof std_rtr);
    std::memcpy(raw.data(), &std_rtr, sizeof std_rtr);
    auto r = io::socketcan::decode(raw);
    REQUIRE(r);
    CHECK_FALSE(r->extended);
    CHECK(r->rtr);
    CHECK(r->rtr_dlc == 4);
    CHECK(r->data.empty());

    can_frame err{};
    err.can_id = CAN_ERR_FLAG | CAN_ERR_BUSOFF;
    err.can_dlc = 8;
    std::memcpy(raw.data(), &err, sizeof err);
    std::string why;
    CHECK_FALSE(io::socketcan::decode(raw, &why));
    CHECK(why == "class=bus_off");
    can_frame bad{};
    bad.can_id = 0x10;
    bad.can_dlc = 9;
    std::memcpy(raw.data(), &bad, sizeof bad);
    CHECK_FALSE(io::socketcan::decode(raw, &why));
    CHECK(why == "class=bad_dlc dlc=9");
}

TEST_CASE("slcan bus over a PTY: the adapter is opened (C, S8, O), then DroneCAN nodes are heard and asked; rig's node status reaches the bus") {
    Adapter adapter(lawicel);
    const std::string uri = "slcan:" + adapter.path + "?bitrate=1000000";
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        devices::RunControl control;
        auto esc = co_await devices::EscDronecan::open(ex, uri, 100, control, {});
        REQUIRE(esc);
        auto lines = adapter.seen();
        REQUIRE(lines.size() >= 3);
        CHECK(lines[0] == "C");
        CHECK(lines[1] == "S8");
        CHECK(lines[2] == "O");

        const auto since = devices::Clock::now();
        dronecan::NodeStatus st;
        st.uptime_s = 7;
        adapter.send(frame_line(20, dronecan::NodeStatus::id, dronecan::Kind::message, 0, st.encode(), dronecan::NodeStatus::signature, 0));
        co_await pause(50ms);
        auto heard = (*esc)->nodes_heard_since(since);
        REQUIRE(heard);
        REQUIRE(heard->size() == 1);
        CHECK((*heard)[0].node == 20);
        CHECK((*heard)[0].health == "OK");
        CHECK((*heard)[0].uptime_s == 7);

        // GetNodeInfo: the adapter answers rig's request with a multi-frame response.
        adapter.answer = [&](const std::string& line) {
            if (line.rfind('T', 0) != 0) return lawicel(line);
            auto ev = slcan::parse_line(line);
            const auto& fl = std::get<slcan::FrameLine>(*ev);
            const auto id = dronecan::decode_id(fl.frame.id);
            if (id.kind != dronecan::Kind::request || id.destination != 20) return lawicel(line);
            dronecan::GetNodeInfo::Response r;
            r.sw_major = 1;
            r.sw_minor = 4;
            r.hw_major = 2;
            r.unique_id.fill(0xAB);
            r.name = "com.rigsim.esc";
            const auto tid = dronecan::decode_tail(std::to_integer<std::uint8_t>(fl.frame.data.back())).transfer_id;
            return "Z\r" + frame_line(20, dronecan::GetNodeInfo::id, dronecan::Kind::response, 100, r.encode(), dronecan::GetNodeInfo::signature, tid);
        };
        auto info = co_await (*esc)->node_info(20);
        REQUIRE(info);
        CHECK(info->name == "com.rigsim.esc");
        CHECK(info->software == "1.4");
        CHECK(info->hardware == "2.0");
        CHECK(info->unique_id == "abababababababababababababababab");

        // An ESC spun: esc.RawCommand lines at >= 50 Hz, then the zero command on stop.
        REQUIRE(co_await (*esc)->spin(1, 50));
        co_await pause(200ms);
        REQUIRE(co_await (*esc)->stop());
        co_await pause(50ms);
        int commands = 0;
        std::string last;
        for (const auto& l : adapter.seen()) {
            if (l.rfind('T', 0) != 0) continue;
            auto fl = std::get<slcan::FrameLine>(*slcan::parse_line(l));
            const auto id = dronecan::decode_id(fl.frame.id);
            if (id.kind == dronecan::Kind::message && id.data_type_id == dronecan::EscRawCommand::id) {
                ++commands;
                last = l;
            }
        }
        CHECK(commands >= 10);  // 200 ms at 100 Hz, with room for a slow machine
        const auto last_frame = std::get<slcan::FrameLine>(*slcan::parse_line(last)).frame;
        REQUIRE(last_frame.data.size() >= 2);
        auto zero = dronecan::EscRawCommand::decode(Bytes(last_frame.data.begin(), last_frame.data.end() - 1));  // without the tail byte
        REQUIRE(zero);
        CHECK(zero->cmd == std::vector<std::int16_t>{0, 0});
        bool status_sent = false;
        for (const auto& l : adapter.seen())
            if (l.rfind('T', 0) == 0 && dronecan::decode_id(std::get<slcan::FrameLine>(*slcan::parse_line(l)).frame.id).data_type_id == dronecan::NodeStatus::id)
                status_sent = true;
        CHECK(status_sent);
    });
}

TEST_CASE("slcan bus: a refused bitrate, a silent port, no such port and a node id clash are each one line naming the port") {
    Adapter refusing(lawicel);
    Adapter silent([](const std::string&) { return std::string(); });
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        devices::RunControl control;
        const auto refused_uri = "slcan:" + refusing.path + "?bitrate=500000";
        auto r = co_await devices::EscDronecan::open(ex, refused_uri, 100, control, {});
        CHECK(r.error().message == refused_uri + ": slcan adapter refused bitrate 500000 bit/s (S6)");
        const auto silent_uri = "slcan:" + silent.path;
        auto s = co_await devices::EscDronecan::open(ex, silent_uri, 100, control, {});
        CHECK(s.error().message == silent_uri + ": slcan adapter did not answer C within 500 ms (no adapter on this port?)");
        auto none = co_await devices::EscDronecan::open(ex, "slcan:/dev/rig-no-such-adapter", 100, control, {});
        CHECK(none.error().message == "slcan:/dev/rig-no-such-adapter: cannot open /dev/rig-no-such-adapter: No such file or directory");
        auto bad_id = co_await devices::EscDronecan::open(ex, "slcan:" + refusing.path, 126, control, {});
        CHECK(bad_id.error().message.find("126") != std::string::npos);
    });
    Adapter adapter(lawicel);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        devices::RunControl control;
        const auto uri = "slcan:" + adapter.path;
        auto esc = co_await devices::EscDronecan::open(ex, uri, 100, control, {});
        REQUIRE(esc);
        dronecan::NodeStatus st;
        adapter.send(frame_line(100, dronecan::NodeStatus::id, dronecan::Kind::message, 0, st.encode(), dronecan::NodeStatus::signature, 3));
        co_await pause(50ms);
        auto heard = (*esc)->nodes_heard_since(devices::Clock::now() - 1s);
        CHECK(heard.error().message == uri + ": node id clash: another node on the bus sends as node 100 (rig's own id)");
        CHECK((co_await (*esc)->spin(0, 10)).error().message == heard.error().message);
        CHECK(co_await (*esc)->stop());  // the safe path is never refused
    });
}

TEST_CASE("slcan bus: the adapter unplugged mid-spin is named, and stop() says the ESCs fall back on their own timeout") {
    auto adapter = std::make_unique<Adapter>(lawicel);
    const auto uri = "slcan:" + adapter->path;
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        devices::RunControl control;
        auto esc = co_await devices::EscDronecan::open(ex, uri, 100, control, {});
        REQUIRE(esc);
        REQUIRE(co_await (*esc)->spin(0, 30));
        co_await pause(30ms);
        adapter.reset();  // the PTY's master closes: the tty hangs up, as a USB adapter pulled out
        co_await pause(100ms);
        CHECK((*esc)->lost());
        auto stopped = co_await (*esc)->stop();
        REQUIRE_FALSE(stopped);
        CHECK(stopped.error().message.find("the ESCs stop by their own command timeout") != std::string::npos);
        CHECK((*esc)->nodes_heard_since(devices::Clock::now()).error().message.find(uri) != std::string::npos);
    });
}

TEST_CASE("socketcan carriage over a datagram socket: whole struct can_frame each way, error frames logged, not fed") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    const int peer = sv[1];
    std::vector<std::string> log;
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        dronecan::Node node(100);
        asio::posix::stream_descriptor sd(ex, sv[0]);
        auto bus = io::frame_bus(ex, "socketcan:test0", std::make_unique<io::detail::AsioStream<asio::posix::stream_descriptor>>(std::move(sd), "socketcan:test0"),
                                 node, [&](const std::string& l) { log.push_back(l); });
        dronecan::NodeStatus st;
        st.uptime_s = 9;
        dronecan::Transfer t;
        t.id = dronecan::CanId{dronecan::Kind::message, dronecan::priority::low, dronecan::NodeStatus::id, 42, 0, 0};
        t.payload = st.encode();
        const auto raw = io::socketcan::encode(dronecan::encode_transfer(t, dronecan::NodeStatus::signature).front());
        can_frame err{};
        err.can_id = CAN_ERR_FLAG | CAN_ERR_ACK;
        err.can_dlc = 8;
        REQUIRE(::write(peer, &err, sizeof err) == sizeof err);
        REQUIRE(::write(peer, raw.data(), raw.size()) == static_cast<ssize_t>(raw.size()));
        bus->kick();
        co_await pause(100ms);
        REQUIRE(node.nodes().count(42));
        CHECK(node.nodes().at(42).status.uptime_s == 9);
        CHECK(std::find(log.begin(), log.end(), "port=socketcan:test0 event=can_error class=no_ack") != log.end());
        // rig's NodeStatus went out as one 16-byte datagram.
        pollfd p{peer, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 1000) == 1);
        std::array<std::byte, 32> buf{};  // room for more: one read must return exactly one frame
        CHECK(::read(peer, buf.data(), buf.size()) == sizeof(can_frame));
        can_frame k{};
        std::memcpy(&k, buf.data(), sizeof k);
        CHECK((k.can_id & CAN_EFF_FLAG) != 0);
        CHECK(dronecan::decode_id(k.can_id & CAN_EFF_MASK).source == 100);
        CHECK(dronecan::decode_id(k.can_id & CAN_EFF_MASK).data_type_id == dronecan::NodeStatus::id);
        // The peer goes away: the bus is lost and names why.
        ::close(peer);
        co_await pause(50ms);
        CHECK_FALSE(bus->lost().empty());
    });
}
