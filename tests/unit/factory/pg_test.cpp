// pg::Connection's bounded replies against a real PostgreSQL (tests/pg/unit.sh): a server that
// stops answering while its TCP connection stays healthy (its backend stopped with SIGSTOP: the
// kernel still acknowledges) is given up at the bound or at a stop, never waited on for ever.
#include <doctest/doctest.h>

#include <csignal>
#include <thread>

#include "tests/unit/factory/server.hpp"

using namespace rig;
using namespace rig::factory;
using test::connect_test_server;
using namespace std::chrono_literals;

namespace {

// The backend serving `c`, stopped until the end of the scope, then let go (it finds its
// client gone and ends).
struct StoppedBackend {
    pid_t pid;
    explicit StoppedBackend(pg::Connection& c) {
        auto r = c.exec("SELECT pg_backend_pid()");
        REQUIRE_MESSAGE(r, r.error().message);
        pid = static_cast<pid_t>(r->integer(0, 0));
        REQUIRE(::kill(pid, SIGSTOP) == 0);
    }
    ~StoppedBackend() { ::kill(pid, SIGCONT); }
};

}  // namespace

TEST_CASE("pg: a bounded connection answers as ever: rows, a 2 MB parameter flushed piecewise, an error that leaves it usable") {
    auto c = connect_test_server();
    c.bound_replies(5s);
    auto one = c.exec("SELECT 1, 'two'");
    REQUIRE_MESSAGE(one, one.error().message);
    CHECK(one->text(0, 0) == "1");
    CHECK(one->text(0, 1) == "two");
    const std::string big(2 << 20, 'x');
    auto n = c.exec("SELECT length($1)", {big});
    REQUIRE_MESSAGE(n, n.error().message);
    CHECK(n->integer(0, 0) == 2 << 20);
    auto bad = c.exec("SELECT 1 / 0");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.ends_with("query failed: division by zero (SQLSTATE 22012)"));
    CHECK(c.last_state() == "22012");
    CHECK(c.alive());
    CHECK(c.exec("SELECT 3"));
}

TEST_CASE("pg: a statement unanswered within the bound fails as a timeout naming the archive; the connection is dropped") {
    auto c = connect_test_server();
    c.bound_replies(300ms);
    StoppedBackend stopped(c);
    auto r = c.exec("SELECT 2");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::timeout);
    CHECK(r.error().message == c.name() + ": no reply within 0.3 s; connection dropped (the statement may still complete on the server)");
    CHECK_FALSE(c.alive());
    auto again = c.run("SELECT 3");
    REQUIRE_FALSE(again);
    CHECK(again.error().message == c.name() + ": connection closed");
    CHECK_FALSE(c.each("SELECT 4", {}, [](const pg::Rows&) { return true; }));
    CHECK_FALSE(c.wait_notification(0));
}

TEST_CASE("pg: a stop ends a bounded wait long before the bound") {
    auto c = connect_test_server();
    std::atomic<bool> stop{false};
    c.bound_replies(std::chrono::minutes(10), &stop);
    StoppedBackend stopped(c);
    std::jthread stopper([&] {
        std::this_thread::sleep_for(300ms);
        stop = true;
    });
    auto r = c.exec("SELECT 2");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::cancelled);
    CHECK(r.error().message == c.name() + ": stopped while waiting for a reply; connection dropped");
    CHECK_FALSE(c.alive());
}
