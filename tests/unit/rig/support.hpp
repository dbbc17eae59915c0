// What the rig/io and rig/devices tests share: a raw PTY pair (the test holds the master side,
// the code under test opens the slave path) and a coroutine run to completion on its own
// io_context.
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>
#include <pty.h>
#include <string>
#include <termios.h>
#include <unistd.h>

namespace rig::test {

struct PtyPair {
    int master = -1, slave = -1;
    std::string path;
    PtyPair() {
        char name[256];
        REQUIRE(::openpty(&master, &slave, name, nullptr, nullptr) == 0);
        termios t{};
        ::tcgetattr(slave, &t);
        ::cfmakeraw(&t);
        ::tcsetattr(slave, TCSANOW, &t);
        path = name;
    }
    ~PtyPair() {
        if (master >= 0) ::close(master);
        if (slave >= 0) ::close(slave);
    }
    PtyPair(const PtyPair&) = delete;
    PtyPair& operator=(const PtyPair&) = delete;
};

template <class F>
void run_coro(F&& f) {
    boost::asio::io_context io;
    bool done = false;
    boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
        co_await f(io.get_executor());
        done = true;
    }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
    io.run();
    REQUIRE(done);
}

}  // namespace rig::test
