// The SCPI instrument drivers against a scripted instrument on a real loopback TCP socket (a LAN
// instrument's raw SCPI port) and on a PTY (a serial one): golden command sequences, identity
// and error-queue refusals, read-back checks, overload readings, timeouts and a lost link.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <functional>
#include <map>

#include "rig/devices/scpi_instruments.hpp"
#include "tests/unit/rig/support.hpp"

using namespace rig;
using namespace rig::devices;
using namespace std::chrono;
namespace asio = boost::asio;

namespace {

// A scripted instrument: each line it receives is logged; `reply(line)` gives its answer (or
// nothing). Replies to queries are queued per header so a test can script a sequence.
struct Script {
    std::vector<std::string> received;
    std::map<std::string, std::vector<std::string>> answers;  // query -> replies in turn (the last repeats)
    std::function<bool(const std::string&)> hang_up;          // close the link on this line
    std::optional<std::string> reply(const std::string& line) {
        received.push_back(line);
        if (line.empty() || line.back() != '?') return std::nullopt;
        auto it = answers.find(line);
        if (it == answers.end()) return std::nullopt;  // a query it never answers
        auto& list = it->second;
        std::string r = list.front();
        if (list.size() > 1) list.erase(list.begin());
        return r;
    }
};

template <class Stream>
asio::awaitable<void> serve(Stream& s, Script& script) {
    asio::streambuf buf;
    for (;;) {
        auto [ec, n] = co_await asio::async_read_until(s, buf, '\n', asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n) - 1);
        buf.consume(n);
        if (script.hang_up && script.hang_up(line)) {
            script.received.push_back(line);
            s.close();
            co_return;
        }
        if (auto r = script.reply(line)) {
            std::string out = *r + "\n";
            co_await asio::async_write(s, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
        }
    }
}

// A TCP instrument on 127.0.0.1: accepts one client and serves it.
struct TcpInstrument {
    asio::ip::tcp::acceptor acceptor;
    asio::ip::tcp::socket socket;
    Script script;
    explicit TcpInstrument(asio::any_io_executor ex)
        : acceptor(ex, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), socket(ex) {
        asio::co_spawn(ex, [this]() -> asio::awaitable<void> {
            auto [ec] = co_await acceptor.async_accept(socket, asio::as_tuple(asio::use_awaitable));
            if (!ec) co_await serve(socket, script);
        }, asio::detached);
    }
    std::string uri() const { return fmt::format("tcp:127.0.0.1:{}", acceptor.local_endpoint().port()); }
    void stop() {
        boost::system::error_code ec;
        acceptor.close(ec);
        socket.close(ec);
    }
};

void good_psu(Script& s) {
    s.answers["*IDN?"] = {"Keysight Technologies,E36103B,MY59001234,2.1.0-1.0.4-1.12"};
    s.answers["SYST:ERR?"] = {"+0,\"No error\""};
    s.answers["VOLT?"] = {"+1.68000000E+01"};
    s.answers["CURR?"] = {"+1.00000000E+01"};
    s.answers["*OPC?"] = {"1"};
}

InstrumentConfig psu_config(const std::string& port) {
    InstrumentConfig c;
    c.name = "psu";
    c.type = "psu";
    c.port = port;
    c.model = "E36103B";
    c.calibration_due = "2027-03-31";
    c.voltage_v = 16.8;
    c.current_limit_a = 10;
    c.ovp_v = 18.5;
    return c;
}

InstrumentConfig rf_config(const std::string& port) {
    InstrumentConfig c;
    c.name = "rf";
    c.type = "rf_power_meter";
    c.port = port;
    c.model = "U2002H";
    c.calibration_due = "2027-05-31";
    c.offset_db = 31.5;
    c.averages = 4;
    return c;
}

}  // namespace

TEST_CASE("bench supply over TCP: identity, configuration in order, error queue, read-back, measurement, output") {
    RunControl control;
    test::run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        TcpInstrument inst(ex);
        good_psu(inst.script);
        inst.script.answers["MEAS:VOLT?"] = {"+1.67990000E+01", "+1.41000000E+01"};
        inst.script.answers["MEAS:CURR?"] = {"+2.80000000E-01", "+1.50000000E+00"};
        inst.script.answers["VOLT:PROT:TRIP?"] = {"0"};
        inst.script.answers["CURR:PROT:TRIP?"] = {"1"};
        auto psu = co_await ScpiPsu::open(ex, psu_config(inst.uri()), control, {});
        REQUIRE(psu);
        CHECK(inst.script.received == std::vector<std::string>{"*IDN?", "*CLS", "OUTP OFF", "VOLT 16.8", "CURR 10", "VOLT:PROT 18.5", "SYST:ERR?",
                                                               "VOLT?", "CURR?"});
        const auto& id = (*psu)->identity();
        CHECK(id.vendor == "Keysight Technologies");
        CHECK(id.serial == "MY59001234");
        CHECK(id.firmware == "2.1.0-1.0.4-1.12");
        CHECK(id.calibration_due == "2027-03-31");

        auto cv = co_await (*psu)->measure();
        REQUIRE(cv);
        CHECK(cv->voltage_v == doctest::Approx(16.799));
        CHECK(cv->current_a == doctest::Approx(0.28));
        CHECK_FALSE(cv->current_limited);
        auto cc = co_await (*psu)->measure();  // 14.1 V of 16.8: regulating current
        REQUIRE(cc);
        CHECK(cc->current_limited);
        auto tripped = co_await (*psu)->protection_tripped();
        REQUIRE(tripped);
        CHECK(*tripped == "over-current");

        inst.script.received.clear();
        REQUIRE(co_await (*psu)->output(true));
        CHECK(inst.script.received == std::vector<std::string>{"OUTP ON", "*OPC?", "SYST:ERR?"});
        CHECK_FALSE((*psu)->inrush());  // nothing captured since this power-on
        inst.script.answers["MEAS:CURR?"] = {"+3.1E+00", "+2.2E+00", "+9.0E-01", "+3.0E-01"};
        auto in = co_await (*psu)->capture_inrush(milliseconds(40));
        REQUIRE(in);
        CHECK(in->peak_a == doctest::Approx(3.1));
        CHECK(in->samples >= 4);
        CHECK((*psu)->inrush()->peak_a == doctest::Approx(3.1));
        inst.stop();
    });
}

TEST_CASE("bench supply refused: another model, a SCPI error after configuration, a setting it clamps") {
    RunControl control;
    test::run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        {
            TcpInstrument inst(ex);
            good_psu(inst.script);
            inst.script.answers["*IDN?"] = {"Keysight Technologies,E36105B,MY1,2.1"};
            auto psu = co_await ScpiPsu::open(ex, psu_config(inst.uri()), control, {});
            REQUIRE_FALSE(psu);
            CHECK(psu.error().message == fmt::format("psu ({}): *IDN? names model 'E36105B' (Keysight Technologies serial MY1), the jig file expects 'E36103B'",
                                                     inst.uri()));
            inst.stop();
        }
        {
            TcpInstrument inst(ex);
            good_psu(inst.script);
            inst.script.answers["SYST:ERR?"] = {"-222,\"Data out of range\"", "-221,\"Settings conflict\"", "+0,\"No error\""};
            auto psu = co_await ScpiPsu::open(ex, psu_config(inst.uri()), control, {});
            REQUIRE_FALSE(psu);
            CHECK(psu.error().message == fmt::format("psu ({}): SCPI error -222,\"Data out of range\" after *CLS; OUTP OFF; VOLT 16.8; CURR 10; VOLT:PROT 18.5",
                                                     inst.uri()));
            // The queue is read to its end, so no stale error is left for the next configuration.
            CHECK(std::count(inst.script.received.begin(), inst.script.received.end(), "SYST:ERR?") == 3);
            inst.stop();
        }
        {
            TcpInstrument inst(ex);
            good_psu(inst.script);
            inst.script.answers["CURR?"] = {"+5.0E+00"};
            auto psu = co_await ScpiPsu::open(ex, psu_config(inst.uri()), control, {});
            REQUIRE_FALSE(psu);
            CHECK(psu.error().message == fmt::format("psu ({}): CURR? reads back 5 after setting 10", inst.uri()));
            inst.stop();
        }
        auto none = co_await ScpiPsu::open(ex, psu_config("tcp:127.0.0.1:1"), control, {});
        REQUIRE_FALSE(none);
        CHECK(none.error().message.rfind("psu: tcp:127.0.0.1:1: ", 0) == 0);
    });
}

TEST_CASE("RF power meter: offset and averaging set once, frequency only when it changes, overload refused, a silent meter times out") {
    RunControl control;
    test::run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        TcpInstrument inst(ex);
        inst.script.answers["*IDN?"] = {"Keysight Technologies,U2002H,MY5400123,A1.03.05"};
        inst.script.answers["SYST:ERR?"] = {"+0,\"No error\""};
        inst.script.answers["READ?"] = {"+1.39800000E+01", "+1.41000000E+01", "+9.91000000E+37"};
        auto rf = co_await ScpiRfMeter::open(ex, rf_config(inst.uri()), control, {});
        REQUIRE(rf);
        CHECK(inst.script.received == std::vector<std::string>{"*IDN?", "*CLS", "UNIT:POW DBM", "SENS:AVER:STAT ON", "SENS:CORR:GAIN2:STAT ON",
                                                               "SENS:AVER:COUN 4", "SENS:CORR:GAIN2 31.5", "SYST:ERR?"});
        inst.script.received.clear();
        auto p1 = co_await (*rf)->read_dbm(5658e6);
        REQUIRE(p1);
        CHECK(*p1 == doctest::Approx(13.98));
        auto p2 = co_await (*rf)->read_dbm(5658e6);
        REQUIRE(p2);
        CHECK(inst.script.received == std::vector<std::string>{"SENS:FREQ 5658000000", "SYST:ERR?", "READ?", "READ?"});
        auto over = co_await (*rf)->read_dbm(5658e6);
        REQUIRE_FALSE(over);
        CHECK(over.error().message == fmt::format("rf ({}): READ? answered +9.91000000E+37 (overload or no valid reading)", inst.uri()));

        inst.script.answers.erase("READ?");  // the meter stops answering: bounded by the step
        control.deadline = Clock::now() + milliseconds(150);
        control.deadline_owner = "vtx";
        auto silent = co_await (*rf)->read_dbm(5658e6);
        REQUIRE_FALSE(silent);
        CHECK(silent.error().code == Errc::timeout);
        CHECK(silent.error().message.find("no reply to READ? within") != std::string::npos);
        inst.stop();
    });
}

TEST_CASE("an instrument that drops its link mid-step: the step's error names it, and the driver reports it lost") {
    RunControl control;
    test::run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        TcpInstrument inst(ex);
        good_psu(inst.script);
        auto psu = co_await ScpiPsu::open(ex, psu_config(inst.uri()), control, {});
        REQUIRE(psu);
        CHECK_FALSE((*psu)->lost());
        inst.script.hang_up = [](const std::string& line) { return line == "MEAS:VOLT?"; };
        auto r = co_await (*psu)->measure();
        REQUIRE_FALSE(r);
        CHECK(r.error().message.rfind(fmt::format("psu ({}): ", inst.uri()), 0) == 0);
        CHECK((*psu)->lost());
        inst.stop();
    });
}

TEST_CASE("DMM over a serial line (PTY): identity, then DC voltage, current and resistance") {
    RunControl control;
    test::PtyPair pty;
    test::run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        asio::posix::stream_descriptor master(ex, ::dup(pty.master));
        Script script;
        script.answers["*IDN?"] = {"FLUKE,8846A,3456789,08/02/10-11:53"};
        script.answers["SYST:ERR?"] = {"+0,\"No error\""};
        script.answers["MEAS:VOLT:DC?"] = {"+3.30120000E+00"};
        script.answers["MEAS:CURR:DC?"] = {"+1.20000000E-02"};
        script.answers["MEAS:RES?"] = {"+4.70100000E+03"};
        asio::co_spawn(ex, serve(master, script), asio::detached);
        InstrumentConfig c;
        c.name = "dmm";
        c.type = "dmm";
        c.port = "serial:" + pty.path + "?baud=9600";
        c.model = "8846a";  // model compared without case
        c.calibration_due = "2027-01-31";
        auto dmm = co_await ScpiDmm::open(ex, c, control, {});
        REQUIRE(dmm);
        CHECK((*dmm)->identity().vendor == "FLUKE");
        CHECK(*(co_await (*dmm)->measure(Multimeter::Quantity::dc_voltage)) == doctest::Approx(3.3012));
        CHECK(*(co_await (*dmm)->measure(Multimeter::Quantity::dc_current)) == doctest::Approx(0.012));
        CHECK(*(co_await (*dmm)->measure(Multimeter::Quantity::resistance)) == doctest::Approx(4701));
        CHECK(script.received == std::vector<std::string>{"*IDN?", "*CLS", "SYST:ERR?", "MEAS:VOLT:DC?", "MEAS:CURR:DC?", "MEAS:RES?"});
        dmm->reset();
        master.close();
    });
}

TEST_CASE("one RF meter shared by two nests: one connection, each use selects the nest's switch path and offset, the other nest waits its turn") {
    RunControl a, b;
    std::vector<std::string> log_a, log_b;
    test::run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        TcpInstrument inst(ex);  // accepts one client only: a second connection would never be served
        inst.script.answers["*IDN?"] = {"Keysight Technologies,U2002H,MY5400123,A1.03.05"};
        inst.script.answers["SYST:ERR?"] = {"+0,\"No error\""};
        inst.script.answers["READ?"] = {"+1.39800000E+01"};
        ScpiLinkPool pool;
        auto cfg_a = rf_config(inst.uri()), cfg_b = rf_config(inst.uri());
        cfg_a.select = "ROUT:CLOS (@101)";
        cfg_b.select = "ROUT:CLOS (@102)";
        cfg_b.offset_db = 30.25;
        auto ra = co_await ScpiRfMeter::open(ex, cfg_a, a, [&](const std::string& l) { log_a.push_back(l); }, &pool, "NEST-A");
        REQUIRE(ra);
        auto rb = co_await ScpiRfMeter::open(ex, cfg_b, b, [&](const std::string& l) { log_b.push_back(l); }, &pool, "NEST-B");
        REQUIRE(rb);
        CHECK(std::count(inst.script.received.begin(), inst.script.received.end(), "*IDN?") == 1);
        CHECK(std::vector<std::string>(inst.script.received.end() - 8, inst.script.received.end()) ==
              std::vector<std::string>{"ROUT:CLOS (@102)", "*CLS", "UNIT:POW DBM", "SENS:AVER:STAT ON", "SENS:CORR:GAIN2:STAT ON",
                                       "SENS:AVER:COUN 4", "SENS:CORR:GAIN2 30.25", "SYST:ERR?"});
        inst.script.received.clear();

        // Nest A's step reads; B's read waits until A's is answered, then routes to B's path.
        a.deadline = Clock::now() + seconds(5);
        b.deadline = Clock::now() + seconds(5);
        const auto b_deadline = *b.deadline;
        inst.script.answers["READ?"] = {"+1.39800000E+01", "+1.20000000E+01"};
        std::optional<Result<double>> got_a, got_b;
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> { got_a = co_await (*ra)->read_dbm(5658e6); }, asio::detached);
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> { got_b = co_await (*rb)->read_dbm(5800e6); }, asio::detached);
        asio::steady_timer t(ex);
        while (!got_a || !got_b) {
            t.expires_after(milliseconds(5));
            co_await t.async_wait(asio::use_awaitable);
        }
        REQUIRE(*got_a);
        REQUIRE(*got_b);
        CHECK(**got_a == doctest::Approx(13.98));
        CHECK(**got_b == doctest::Approx(12.0));
        CHECK(inst.script.received == std::vector<std::string>{"ROUT:CLOS (@101)", "SENS:AVER:COUN 4", "SENS:CORR:GAIN2 31.5", "SYST:ERR?",
                                                               "SENS:FREQ 5658000000", "SYST:ERR?", "READ?",
                                                               "ROUT:CLOS (@102)", "SENS:AVER:COUN 4", "SENS:CORR:GAIN2 30.25", "SYST:ERR?",
                                                               "SENS:FREQ 5800000000", "SYST:ERR?", "READ?"});
        // B's wait is reported with its step and moved its deadline by as much; A never waited.
        CHECK(a.instrument_wait == Clock::duration{});
        CHECK(b.instrument_wait > Clock::duration{});
        CHECK(*b.deadline - b_deadline == b.instrument_wait);
        REQUIRE(log_b.size() == 1);
        CHECK(log_b[0].rfind(fmt::format("event=instrument_wait name=rf port={} waited_ms=", inst.uri()), 0) == 0);

        // The same nest again: no selection sent.
        inst.script.received.clear();
        REQUIRE(co_await (*rb)->read_dbm(5800e6));
        CHECK(inst.script.received == std::vector<std::string>{"READ?"});
        inst.stop();
    });
}

TEST_CASE("one multi-output supply shared by two nests: each use selects the nest's output and sends its own voltage, current limit and OVP") {
    RunControl a, b;
    test::run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        TcpInstrument inst(ex);  // one client only
        inst.script.answers["*IDN?"] = {"Keysight Technologies,E36313A,MY61001234,2.1.3-1.0.4-1.12"};
        inst.script.answers["SYST:ERR?"] = {"+0,\"No error\""};
        inst.script.answers["*OPC?"] = {"1"};
        inst.script.answers["VOLT?"] = {"+1.68000000E+01", "+1.26000000E+01"};  // each nest reads back its own output
        inst.script.answers["CURR?"] = {"+1.00000000E+01", "+5.00000000E+00"};
        ScpiLinkPool pool;
        auto cfg_a = psu_config(inst.uri()), cfg_b = psu_config(inst.uri());
        cfg_a.model = cfg_b.model = "E36313A";
        cfg_a.select = "INST:NSEL 1";
        cfg_b.select = "INST:NSEL 2";
        cfg_b.voltage_v = 12.6;
        cfg_b.current_limit_a = 5;
        cfg_b.ovp_v = 14;
        auto pa = co_await ScpiPsu::open(ex, cfg_a, a, {}, &pool, "NEST-A");
        REQUIRE(pa);
        auto pb = co_await ScpiPsu::open(ex, cfg_b, b, {}, &pool, "NEST-B");
        REQUIRE(pb);
        CHECK(std::count(inst.script.received.begin(), inst.script.received.end(), "*IDN?") == 1);
        // B's start-up: its output selected before OUTP OFF, so A's output is never switched off by it.
        CHECK(std::vector<std::string>(inst.script.received.end() - 9, inst.script.received.end()) ==
              std::vector<std::string>{"INST:NSEL 2", "*CLS", "OUTP OFF", "VOLT 12.6", "CURR 5", "VOLT:PROT 14", "SYST:ERR?", "VOLT?", "CURR?"});
        inst.script.received.clear();

        a.deadline = Clock::now() + seconds(5);
        b.deadline = Clock::now() + seconds(5);
        inst.script.answers["MEAS:VOLT?"] = {"+1.68000000E+01", "+1.26000000E+01"};
        inst.script.answers["MEAS:CURR?"] = {"+1.20000000E+00", "+8.00000000E-01"};
        std::optional<Result<PsuReading>> got_a, got_b;
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> { got_a = co_await (*pa)->measure(); }, asio::detached);
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> { got_b = co_await (*pb)->measure(); }, asio::detached);
        asio::steady_timer t(ex);
        while (!got_a || !got_b) {
            t.expires_after(milliseconds(5));
            co_await t.async_wait(asio::use_awaitable);
        }
        REQUIRE(*got_a);
        REQUIRE(*got_b);
        CHECK((*got_a)->voltage_v == doctest::Approx(16.8));
        CHECK((*got_b)->current_a == doctest::Approx(0.8));
        CHECK_FALSE((*got_b)->current_limited);  // judged against B's own 12.6 V, not A's 16.8 V
        CHECK(inst.script.received == std::vector<std::string>{"INST:NSEL 1", "VOLT 16.8", "CURR 10", "VOLT:PROT 18.5", "SYST:ERR?",
                                                               "MEAS:VOLT?", "MEAS:CURR?",
                                                               "INST:NSEL 2", "VOLT 12.6", "CURR 5", "VOLT:PROT 14", "SYST:ERR?",
                                                               "MEAS:VOLT?", "MEAS:CURR?"});
        CHECK(b.instrument_wait > Clock::duration{});

        // B switches its output off (teardown): B is still selected, so nothing is sent before it.
        inst.script.received.clear();
        REQUIRE(co_await (*pb)->output(false));
        CHECK(inst.script.received == std::vector<std::string>{"OUTP OFF", "*OPC?"});
        inst.stop();
    });
}

TEST_CASE("instrument lock: first come first served, the wait bounded and named, an abort ends it, a cancelled waiter leaves the line") {
    test::run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        InstrumentLock lock("rf (tcp:10.0.0.5:5025)");
        RunControl c1, c2, c3;
        auto held = co_await lock.acquire("NEST-01", milliseconds(1000), &c1);
        REQUIRE(held);
        CHECK(lock.holder() == "NEST-01");
        CHECK(held->waited == Clock::duration{});

        // Bounded: NEST-02 gives up after its lock timeout, naming who holds the instrument.
        auto late = co_await lock.acquire("NEST-02", milliseconds(120), &c2);
        REQUIRE_FALSE(late);
        CHECK(late.error().code == Errc::timeout);
        CHECK(late.error().message == "rf (tcp:10.0.0.5:5025): busy: waited 0.1 s for it behind NEST-01 (1 in line)");
        CHECK(lock.waiting() == 0);

        // An abort ends a step's wait within the abort check, and the waiter leaves the line.
        std::optional<Result<InstrumentLock::Lease>> aborted, second, third;
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> { aborted = co_await lock.acquire("NEST-02", milliseconds(5000), &c2); }, asio::detached);
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> { second = co_await lock.acquire("NEST-03", milliseconds(5000), &c3); }, asio::detached);
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> { third = co_await lock.acquire("NEST-04", milliseconds(5000), nullptr); }, asio::detached);
        asio::steady_timer t(ex);
        t.expires_after(milliseconds(20));
        co_await t.async_wait(asio::use_awaitable);
        CHECK(lock.waiting() == 3);
        c2.abort = true;
        c2.abort_reason = "lid opened during the test";
        t.expires_after(milliseconds(120));
        co_await t.async_wait(asio::use_awaitable);
        REQUIRE(aborted);
        REQUIRE_FALSE(*aborted);
        CHECK(aborted->error().code == Errc::cancelled);
        CHECK(lock.waiting() == 2);

        // Released: the turn goes to the first in line (NEST-03), then NEST-04 (teardown: no abort check).
        held->release();
        t.expires_after(milliseconds(20));
        co_await t.async_wait(asio::use_awaitable);
        REQUIRE(second);
        REQUIRE(*second);
        CHECK(lock.holder() == "NEST-03");
        CHECK((*second)->waited > milliseconds(100));
        CHECK_FALSE(third);
        (**second).release();
        t.expires_after(milliseconds(20));
        co_await t.async_wait(asio::use_awaitable);
        REQUIRE(third);
        REQUIRE(*third);
        CHECK(lock.holder() == "NEST-04");
        (**third).release();
        CHECK(lock.holder() == "");
        CHECK(lock.waiting() == 0);
    });
}
