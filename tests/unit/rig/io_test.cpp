// Transports over real PTYs and TCP sockets, and the jig driver against a scripted peer.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include "protocols/jig/jig.hpp"
#include "rig/devices/jig.hpp"
#include "rig/io/stream.hpp"
#include "rig/io/stall.hpp"
#include "rig/io/watch.hpp"
#include "tests/unit/rig/support.hpp"
#include <atomic>
#include <filesystem>
#include <functional>
#include <fstream>
#include <thread>

using namespace rig;
using namespace std::chrono_literals;
namespace asio = boost::asio;

using test::PtyPair;
using test::run_coro;

TEST_CASE("port URIs parse, and bad ones are named") {
    auto s = io::parse_uri("serial:/dev/ttyACM0?baud=921600");
    REQUIRE(s);
    CHECK(s->path == "/dev/ttyACM0");
    CHECK(s->baud == 921600);
    auto t = io::parse_uri("tcp:127.0.0.1:5761");
    REQUIRE(t);
    CHECK(t->port == 5761);
    auto u = io::parse_uri("usb-serial:0483:5740:ABC123");
    REQUIRE(u);
    CHECK(u->serial == "ABC123");
    CHECK(io::parse_uri("serial:/dev/x?baud=fast").error().message == "port 'serial:/dev/x?baud=fast': baud must be a positive integer");
    CHECK(io::parse_uri("tcp:host:99999").error().message == "port 'tcp:host:99999': bad TCP port number");
    auto m = io::parse_uri("usbtmc:2A8D:1602:MY5910");
    REQUIRE(m);
    CHECK(m->scheme == io::PortUri::Scheme::usbtmc);
    CHECK(m->vid == "2a8d");
    CHECK(m->pid == "1602");
    CHECK(m->serial == "MY5910");
    CHECK(io::parse_uri("usbtmc:2a8d:1602")->serial.empty());
    CHECK(io::parse_uri("usbtmc:2a8d").error().message == "port 'usbtmc:2a8d': expected usbtmc:VID:PID[:SERIAL]");
    CHECK(io::parse_uri("usbtmc:2a8g:1602").error().message == "port 'usbtmc:2a8g:1602': VID and PID are 4 hex digits");
    CHECK(io::parse_uri("usbtmc:2a8d:1602:").error().message == "port 'usbtmc:2a8d:1602:': empty serial number after VID:PID:");
    CHECK(io::parse_uri("usb-serial:483:5740").error().message == "port 'usb-serial:483:5740': VID and PID are 4 hex digits");
    CHECK(io::parse_uri("can0").error().message == "port 'can0': expected scheme:address (serial:, tcp:, usb-serial:, usbtmc:)");
    CHECK(io::parse_uri("bogus:x").error().message == "port 'bogus:x': unknown scheme 'bogus' (serial:, tcp:, usb-serial:, usbtmc:)");
}

TEST_CASE("serial transport reads and writes a PTY, times out, and reports a lost port") {
    PtyPair pty;
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "serial:" + pty.path + "?baud=115200");
        REQUIRE(port);
        const Bytes hello = to_bytes({0x24, 0x4D, 0x3C});
        auto w = co_await (*port)->write(hello, 100ms);
        CHECK(w);
        std::byte got[8];
        CHECK(::read(pty.master, got, sizeof got) == 3);
        CHECK(::write(pty.master, "ok", 2) == 2);
        std::array<std::byte, 16> buf{};
        auto n = co_await (*port)->read_some(buf, 500ms);
        REQUIRE(n);
        CHECK(*n == 2);
        auto none = co_await (*port)->read_some(buf, 30ms);
        REQUIRE_FALSE(none);
        CHECK(none.error().code == Errc::timeout);
        // The device vanishes: both ends of the PTY close, the next read must fail, not hang.
        ::close(pty.master);
        ::close(pty.slave);
        pty.master = pty.slave = -1;
        auto lost = co_await (*port)->read_some(buf, 500ms);
        REQUIRE_FALSE(lost);
        CHECK(lost.error().code == Errc::io_error);
        CHECK(lost.error().message.find("serial:" + pty.path) == 0);
    });
}

TEST_CASE("opening an absent port names it") {
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "serial:/dev/rig-no-such-tty");
        REQUIRE_FALSE(port);
        CHECK(port.error().message.rfind("serial:/dev/rig-no-such-tty: cannot open /dev/rig-no-such-tty: ", 0) == 0);
        auto tcp = co_await io::open(ex, "tcp:127.0.0.1:1");
        REQUIRE_FALSE(tcp);
        CHECK(tcp.error().message.rfind("tcp:127.0.0.1:1: cannot connect: ", 0) == 0);
    });
}

TEST_CASE("tcp transport carries bytes both ways") {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port_no = acceptor.local_endpoint().port();
    asio::ip::tcp::socket peer(io);
    acceptor.async_accept(peer, [&](boost::system::error_code ec) {
        REQUIRE_FALSE(ec);
        asio::write(peer, asio::buffer("pong", 4));
    });
    bool done = false;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        auto s = co_await io::open(io.get_executor(), "tcp:127.0.0.1:" + std::to_string(port_no));
        REQUIRE(s);
        std::array<std::byte, 8> buf{};
        std::size_t total = 0;
        while (total < 4) {
            auto n = co_await (*s)->read_some(std::span(buf).subspan(total), 1000ms);
            REQUIRE(n);
            total += *n;
        }
        CHECK(std::string(reinterpret_cast<char*>(buf.data()), 4) == "pong");
        done = true;
    }, asio::detached);
    io.run();
    CHECK(done);
}

namespace {
// A scripted jig on the PTY's master side: `on_frame` sees each request, until `stop`.
std::thread scripted_jig(int master, const std::atomic<bool>& stop, std::function<void(const jig::Frame&)> on_frame) {
    return std::thread([master, &stop, on_frame = std::move(on_frame)] {
        jig::Parser parser;
        while (!stop) {
            pollfd pfd{master, POLLIN, 0};
            if (::poll(&pfd, 1, 20) <= 0) continue;
            std::byte buf[256];
            const auto n = ::read(master, buf, sizeof buf);
            if (n <= 0) continue;
            for (const auto& f : parser.feed(ByteView(buf, static_cast<std::size_t>(n)))) on_frame(f);
        }
    });
}

void reply(int master, const jig::Frame& f) {
    const auto bytes = jig::encode(f);
    REQUIRE(::write(master, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}
}  // namespace

TEST_CASE("jig driver: an error reply is reported with its message, and silence is a timeout naming the command") {
    PtyPair pty;
    ::fcntl(pty.master, F_SETFL, O_NONBLOCK);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "serial:" + pty.path);
        REQUIRE(port);
        devices::RunControl control;
        devices::Jig jig(ex, std::move(*port), control);
        // Scripted peer: answer the first SET_DUT_POWER with "interlock open".
        asio::steady_timer t(ex, 30ms);
        t.async_wait([&](auto) {
            std::byte buf[64];
            auto n = ::read(pty.master, buf, sizeof buf);
            REQUIRE(n > 0);
            jig::Parser p;
            auto frames = p.feed(ByteView(buf, static_cast<std::size_t>(n)));
            REQUIRE(frames.size() == 1);
            auto reply = jig::encode({jig::Kind::error, frames[0].seq, frames[0].command, jig::encode_error({jig::ErrorCode::interlock_open, "lid open"})});
            REQUIRE(::write(pty.master, reply.data(), reply.size()) == static_cast<ssize_t>(reply.size()));
        });
        auto on = co_await jig.set_dut_power(true);
        REQUIRE_FALSE(on);
        CHECK(on.error().message == "serial:" + pty.path + ": jig refused SET_DUT_POWER: lid open (code 3)");
        auto quiet = co_await jig.read_supply();
        REQUIRE_FALSE(quiet);
        CHECK(quiet.error().code == Errc::timeout);
        CHECK(quiet.error().message == "serial:" + pty.path + ": jig did not answer READ_DUT_SUPPLY within 300 ms (2 attempts)");
        // BUZZER is not sent twice: a second beep is not a harmless repeat.
        auto beep = co_await jig.buzzer(50ms);
        REQUIRE_FALSE(beep);
        CHECK(beep.error().message == "serial:" + pty.path + ": jig did not answer BUZZER within 300 ms");
    });
}

TEST_CASE("jig driver: a request lost on the wire is sent again, logged; the jig's late answer to the first is dropped") {
    PtyPair pty;
    std::atomic<bool> stop{false};
    std::atomic<int> requests{0};
    // The jig: the first READ_DUT_SUPPLY is lost; its answer comes late, just after the retry's.
    std::optional<std::uint8_t> lost;
    std::thread peer = scripted_jig(pty.master, stop, [&](const jig::Frame& f) {
        ++requests;
        if (!lost) {
            lost = f.seq;
            return;
        }
        reply(pty.master, {jig::Kind::response, f.seq, f.command, jig::encode_supply({16.8, 0.25})});
        reply(pty.master, {jig::Kind::response, *lost, f.command, jig::encode_supply({1.0, 0.25})});
    });
    std::vector<std::string> log;
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "serial:" + pty.path);
        REQUIRE(port);
        devices::RunControl control;
        devices::Jig jig(ex, std::move(*port), control, [&](const std::string& line) { log.push_back(line); });
        auto s = co_await jig.read_supply();
        REQUIRE(s);
        CHECK(s->voltage_v == doctest::Approx(16.8));
        CHECK(s->current_a == doctest::Approx(0.25));
    });
    stop = true;
    peer.join();
    CHECK(requests == 2);
    REQUIRE(log.size() == 1);
    CHECK(log[0] == "port=serial:" + pty.path + " event=jig_retry command=READ_DUT_SUPPLY attempt=2");
}

TEST_CASE("jig keepalive: one HEARTBEAT unanswered is a lost frame, two in a row are the jig lost, reported once") {
    PtyPair pty;
    std::atomic<int> heartbeats{0};
    std::atomic<bool> stop{false};
    // The jig: answers HEARTBEAT with "powered, lid closed, DUT present", but not the 3rd, and
    // none from the 7th on.
    std::thread peer = scripted_jig(pty.master, stop, [&](const jig::Frame& f) {
        if (f.command != jig::Command::heartbeat) return;
        const int i = heartbeats++;
        if (i == 2 || i >= 6) return;
        const auto s = static_cast<std::byte>(jig::status::dut_power | jig::status::lid_closed | jig::status::dut_present);
        reply(pty.master, {jig::Kind::response, f.seq, f.command, {s}});
    });
    int answered = 0;
    std::vector<std::string> errors;
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "serial:" + pty.path);
        REQUIRE(port);
        devices::RunControl control;
        devices::Jig jig(ex, std::move(*port), control);
        jig.start_keepalive([&](const Result<devices::JigStatus>& s) {
            if (s) ++answered;
            else errors.push_back(s.error().message);
        });
        asio::steady_timer t(ex);
        for (int i = 0; i < 250 && errors.empty(); ++i) {
            t.expires_after(20ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        // Half a second more: the error is not repeated while the station stops the unit.
        t.expires_after(250ms);
        co_await t.async_wait(asio::use_awaitable);
        jig.stop_keepalive();
    });
    stop = true;
    peer.join();
    CHECK(answered == 5);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "serial:" + pty.path + ": jig did not answer HEARTBEAT within 300 ms");
    CHECK(heartbeats >= 8);
}

TEST_CASE("path_changed returns when the device node appears (inotify), also under a directory that does not exist yet, else at its timeout") {
    namespace fs = std::filesystem;
    const fs::path root = fs::temp_directory_path() / ("rig-watch-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
    for (const bool nested : {false, true}) {
        CAPTURE(nested);
        const fs::path node = nested ? root / "serial" / "by-id" / "usb-FC" : root / "ttyACM0";
        asio::io_context io;
        bool returned = false, existed = false;
        asio::co_spawn(io, [&]() -> asio::awaitable<void> {
            co_await io::path_changed(io.get_executor(), node, 20s);
            returned = true;
            existed = fs::exists(root / (nested ? "serial" : "ttyACM0"));
        }, asio::detached);
        asio::steady_timer later(io, 50ms);
        later.async_wait([&](auto) {
            if (nested) fs::create_directories(node.parent_path());
            std::ofstream(node) << "";
        });
        const auto t = std::chrono::steady_clock::now();
        io.run();
        CHECK(returned);
        CHECK(existed);  // woken by the creation, long before the 20 s timeout
        CHECK(std::chrono::steady_clock::now() - t < 15s);
        fs::remove_all(root / "serial");
        fs::remove(root / "ttyACM0");
    }
    // Already there: at once. Nothing happens: the timeout.
    std::ofstream(root / "present") << "";
    asio::io_context io;
    int done = 0;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        co_await io::path_changed(io.get_executor(), root / "present", 20s);
        ++done;
        co_await io::path_changed(io.get_executor(), root / "absent", 30ms);
        ++done;
    }, asio::detached);
    io.run();
    CHECK(done == 2);
    CHECK_FALSE(fs::exists(root / "absent"));
    fs::remove_all(root);
}

namespace {
int inotify_descriptors() {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::filesystem::read_symlink(e.path(), ec).string() == "anon_inode:inotify") ++n;
    }
    return n;
}
}  // namespace

TEST_CASE("path_changed: one inotify descriptor per io_context however many waits (closing one stalls the io thread), every waiter on a directory woken") {
    namespace fs = std::filesystem;
    const fs::path root = fs::temp_directory_path() / ("rig-watch-many-" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
    const int before = inotify_descriptors();
    asio::io_context io;
    int woken = 0, during = 0;
    for (int i = 0; i < 3; ++i)
        asio::co_spawn(io, [&, i]() -> asio::awaitable<void> {
            co_await io::path_changed(io.get_executor(), root / ("node" + std::to_string(i)), 20s);
            ++woken;
        }, asio::detached);
    asio::steady_timer later(io, 50ms);
    later.async_wait([&](auto) {
        during = inotify_descriptors() - before;
        std::ofstream(root / "node0") << "";  // one event wakes all three; each then checks its own path
    });
    const auto t = std::chrono::steady_clock::now();
    io.run();  // returns: nothing stays pending once nobody waits
    CHECK(woken == 3);
    CHECK(std::chrono::steady_clock::now() - t < 15s);
    CHECK(during == 1);
    for (int i = 0; i < 20; ++i) {
        io.restart();
        asio::co_spawn(io, [&]() -> asio::awaitable<void> { co_await io::path_changed(io.get_executor(), root / "absent", 1ms); }, asio::detached);
        io.run();
    }
    CHECK(inotify_descriptors() - before == 1);  // kept for the next wait, not closed and reopened
    fs::remove_all(root);
}

TEST_CASE("StallWatch: a blocked io thread is logged with how late its tick came and the host's steal; stop() lets the io_context finish") {
    asio::io_context io;
    std::vector<std::string> lines;
    io::StallWatch watch(io.get_executor(), 20ms, 100ms, [&](const std::string& l) { lines.push_back(l); });
    asio::steady_timer block(io, 30ms), end(io, 600ms);
    block.async_wait([](auto) { std::this_thread::sleep_for(400ms); });  // the io thread busy: ticks wait
    end.async_wait([&](auto) { watch.stop(); });
    io.run();  // returns: no tick pending after stop()
    REQUIRE(!lines.empty());
    const auto& l = lines.front();
    CAPTURE(l);
    CHECK(l.rfind("event=io_stall late_ms=", 0) == 0);
    CHECK(std::stoi(l.substr(std::string("event=io_stall late_ms=").size())) >= 300);
    CHECK(l.find(" host_steal_ms=") != std::string::npos);
    CHECK(io::steal_ms() >= 0);  // /proc/stat is there on Linux
}
