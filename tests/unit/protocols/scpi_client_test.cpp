// The SCPI client session: one message at a time, queries matched to the next reply line,
// commands done once written, and the drain after a lost reply (SCPI has no sequence numbers).
#include <doctest/doctest.h>

#include "protocols/scpi/client.hpp"

using namespace rig;
using namespace std::chrono_literals;

namespace {
const session::Time t0{std::chrono::seconds(100)};
std::string text(const std::optional<Bytes>& b) { return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("<none>"); }
Bytes bytes(std::string_view s) { return Bytes(reinterpret_cast<const std::byte*>(s.data()), reinterpret_cast<const std::byte*>(s.data() + s.size())); }
std::string reply(const session::Done& d) { return d.reply ? std::string(reinterpret_cast<const char*>(d.reply->data()), d.reply->size()) : "error: " + d.reply.error().message; }
}  // namespace

TEST_CASE("scpi client: commands are done once written, queries take the next reply line, one message at a time") {
    scpi::Client c;
    const auto set = c.command("VOLT 16.8");
    const auto idn = c.query("*IDN?", 500ms);
    const auto meas = c.query("MEAS:CURR?", 500ms);
    CHECK(text(c.transmit(t0)) == "VOLT 16.8\n");
    auto done = c.completed();
    REQUIRE(done);
    CHECK(done->id == set);
    CHECK(reply(*done) == "");
    CHECK(text(c.transmit(t0)) == "*IDN?\n");
    CHECK(text(c.transmit(t0)) == "<none>");  // MEAS:CURR? waits for *IDN?'s reply
    CHECK(*c.deadline() == t0 + 500ms);
    c.receive(bytes("Rigsim,RFP-6000,SN1234,1.2"), t0 + 1ms);
    CHECK_FALSE(c.completed());  // no LF yet
    c.receive(bytes(".0\r\n"), t0 + 2ms);
    done = c.completed();
    REQUIRE(done);
    CHECK(done->id == idn);
    CHECK(reply(*done) == "Rigsim,RFP-6000,SN1234,1.2.0");
    CHECK(text(c.transmit(t0 + 2ms)) == "MEAS:CURR?\n");
    c.receive(bytes("4.83E-2\n"), t0 + 3ms);
    done = c.completed();
    REQUIRE(done);
    CHECK(done->id == meas);
    CHECK(reply(*done) == "4.83E-2");
}

TEST_CASE("scpi client: a timed-out query is never re-sent; its late reply is drained, not given to the next query") {
    scpi::Client c;
    const auto q1 = c.query("MEAS:POW?", 200ms);
    CHECK(text(c.transmit(t0)) == "MEAS:POW?\n");
    c.tick(t0 + 199ms);
    CHECK_FALSE(c.completed());
    c.tick(t0 + 200ms);
    auto done = c.completed();
    REQUIRE(done);
    CHECK(done->id == q1);
    CHECK(reply(*done) == "error: no reply to MEAS:POW? within 200 ms");
    CHECK(done->reply.error().code == Errc::timeout);
    const auto q2 = c.query("*IDN?", 200ms);
    CHECK(text(c.transmit(t0 + 201ms)) == "<none>");  // draining
    CHECK(*c.deadline() == t0 + 200ms + scpi::Client::kDrain);
    c.receive(bytes("-23.5\n"), t0 + 250ms);  // the late reply to MEAS:POW?
    CHECK_FALSE(c.completed());
    CHECK(c.stray_replies() == 1);
    CHECK(*c.note() == "event=scpi_stray_reply text=\"-23.5\"");
    CHECK(*c.deadline() == t0 + 250ms + scpi::Client::kDrain);  // it was still talking: quiet longer
    CHECK(text(c.transmit(t0 + 250ms + scpi::Client::kDrain)) == "*IDN?\n");
    c.receive(bytes("A,B,C,D\n"), t0 + 600ms);
    done = c.completed();
    REQUIRE(done);
    CHECK(done->id == q2);
    CHECK(reply(*done) == "A,B,C,D");
}

TEST_CASE("scpi client: a reply with nothing asked is dropped; a cancelled query drains; a lost link fails every request") {
    scpi::Client c;
    c.receive(bytes("1\n"), t0);
    CHECK(c.stray_replies() == 1);
    const auto q = c.query("OUTP?", 500ms);
    CHECK(text(c.transmit(t0)) == "OUTP?\n");
    c.cancel(q);
    const auto q2 = c.query("OUTP?", 500ms);
    CHECK(*c.deadline() == session::Time{});
    CHECK(text(c.transmit(t0 + 1ms)) == "<none>");  // the drain starts
    CHECK(*c.deadline() == t0 + 1ms + scpi::Client::kDrain);
    CHECK(text(c.transmit(t0 + 1ms + scpi::Client::kDrain)) == "OUTP?\n");
    const auto q3 = c.command("OUTP OFF");
    c.link_lost(make_error(Errc::io_error, "tcp:10.0.0.5:5025: read failed: Connection reset by peer"));
    auto a = c.completed(), b = c.completed();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->id == q2);
    CHECK(b->id == q3);
    CHECK(reply(*b) == "error: tcp:10.0.0.5:5025: read failed: Connection reset by peer");
}
