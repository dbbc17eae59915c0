// socketcan: on a virtual CAN interface (vcan), against a second raw socket as the bus's other
// node. Needs AF_CAN and a vcan interface: RIG_VCAN names one that exists, or the test creates
// rigvcan0 (root, module vcan). Where neither is possible it exits 77, which ctest reports as
// SKIPPED (SKIP_RETURN_CODE), never as a pass.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <poll.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "protocols/dronecan/messages.hpp"
#include "rig/devices/esc_dronecan.hpp"
#include "rig/io/can.hpp"

using namespace rig;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

std::string g_iface;

int raw_socket(const std::string& iface) {
    const int fd = ::socket(PF_CAN, SOCK_RAW, CAN_RAW);
    REQUIRE(fd >= 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, iface.c_str(), IFNAMSIZ - 1);
    REQUIRE(::ioctl(fd, SIOCGIFINDEX, &ifr) == 0);
    sockaddr_can addr{};
    addr.can_family = AF_CAN;
    addr.can_ifindex = ifr.ifr_ifindex;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

TEST_CASE("socketcan: rig's node heard on the bus, another node's status and an ESC's esc.Status read") {
    const int peer = raw_socket(g_iface);
    asio::io_context io;
    bool done = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        devices::RunControl control;
        auto esc = co_await devices::EscDronecan::open(io.get_executor(), "socketcan:" + g_iface, 100, control, {});
        REQUIRE(esc);
        const auto since = devices::Clock::now();
        dronecan::NodeStatus st;
        st.uptime_s = 3;
        dronecan::EscStatus es;
        es.esc_index = 1;
        es.rpm = 4200;
        es.voltage_v = 16;
        es.temperature_k = 300;
        for (auto [type, payload, sig] : {std::tuple{dronecan::NodeStatus::id, st.encode(), dronecan::NodeStatus::signature},
                                          std::tuple{dronecan::EscStatus::id, es.encode(), dronecan::EscStatus::signature}}) {
            dronecan::Transfer t;
            t.id = dronecan::CanId{dronecan::Kind::message, dronecan::priority::low, type, 21, 0, 0};
            t.payload = payload;
            for (const auto& f : dronecan::encode_transfer(t, sig)) {
                const auto raw = io::socketcan::encode(f);
                REQUIRE(::write(peer, raw.data(), raw.size()) == static_cast<ssize_t>(raw.size()));
            }
        }
        co_await pause(100ms);
        auto heard = (*esc)->nodes_heard_since(since);
        REQUIRE(heard);
        REQUIRE(heard->size() == 1);
        CHECK((*heard)[0].node == 21);
        auto s = (*esc)->esc_status(1, 1s);
        REQUIRE(s);
        CHECK(s->rpm == 4200);
        CHECK(s->node == 21);
        // rig's own NodeStatus reached the peer (sent at once after opening).
        bool rig_status = false;
        for (int i = 0; i < 20 && !rig_status; ++i) {
            pollfd p{peer, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            can_frame k{};
            if (::read(peer, &k, sizeof k) != sizeof k) continue;
            const auto id = dronecan::decode_id(k.can_id & CAN_EFF_MASK);
            rig_status = id.source == 100 && id.data_type_id == dronecan::NodeStatus::id;
        }
        CHECK(rig_status);
        done = true;
    }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    io.run();
    CHECK(done);
    ::close(peer);
}

TEST_CASE("socketcan: an interface that does not exist is named") {
    asio::io_context io;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        devices::RunControl control;
        auto esc = co_await devices::EscDronecan::open(io.get_executor(), "socketcan:rignosuch0", 100, control, {});
        REQUIRE_FALSE(esc);
        CHECK(esc.error().message == "socketcan:rignosuch0: no CAN interface 'rignosuch0': No such device");
    }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    io.run();
}

int main(int argc, char** argv) {
    const int probe = ::socket(PF_CAN, SOCK_RAW, CAN_RAW);
    if (probe < 0) {
        std::printf("SKIPPED: this kernel has no SocketCAN (socket(PF_CAN): %s); the socketcan: transport is tested where AF_CAN exists\n",
                    std::strerror(errno));
        return 77;
    }
    ::close(probe);
    const char* named = std::getenv("RIG_VCAN");
    g_iface = named && *named ? named : "rigvcan0";
    if (if_nametoindex(g_iface.c_str()) == 0) {
        const std::string add = "ip link add dev " + g_iface + " type vcan 2>/dev/null && ip link set up " + g_iface + " 2>/dev/null";
        if (named || std::system(add.c_str()) != 0 || if_nametoindex(g_iface.c_str()) == 0) {
            std::printf("SKIPPED: AF_CAN exists but no vcan interface '%s' (set RIG_VCAN, or run as root with the vcan module)\n", g_iface.c_str());
            return 77;
        }
    }
    doctest::Context context(argc, argv);
    return context.run();
}
