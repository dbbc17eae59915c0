// rig's USB ports against simulated devices under umockdev: libusb's real calls (enumeration,
// open, claim, control, bulk and interrupt transfers, cancel, hotplug) reach an emulated usbfs
// that a simulated USBTMC power sensor answers; libserialport finds an emulated CDC-ACM tty.
// No mock of rig's own code: rig::io::open("usbtmc:...") and the SCPI drivers run unchanged.
// Runs with LD_PRELOAD=libumockdev-preload.so.0 (tests/CMakeLists.txt sets it).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <random>
#include <unistd.h>

#include "fixtures/sim/scpi_bench.hpp"
#include "fixtures/sim/umockdev_usb.hpp"
#include "rig/devices/scpi_instruments.hpp"
#include "rig/io/usb.hpp"
#include "tests/unit/rig/step_fakes.hpp"
#include "tests/unit/rig/support.hpp"

using namespace rig;
using namespace std::chrono;
namespace asio = boost::asio;
using rig::test::run_coro;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::uint16_t kVid = 0x1ab1, kPid = 0x04ce;
const std::string kIdn = "RIGSIM,USBPS-8,SIM-UPS-0042,3.1.0";

// A USB power sensor: a frequency-selective RF meter behind a USBTMC interface, reading
// -12.5 dBm at 5.8 GHz (before its offset).
struct Sensor {
    std::mt19937 rng{7};
    rigsim::UsbtmcDevice device;
    rigsim::SimRfMeter meter;
    explicit Sensor(std::string serial = "SIM-UPS-0042", bool interrupt_in = false, bool usb488 = true)
        : device({std::move(serial), usb488, interrupt_in}, [this](double now) { meter.serve(now); }),
          meter(device.port(), [](double hz, int) -> std::optional<double> {
              if (std::abs(hz - 5.8e9) < 10e6) return -12.5;
              return std::nullopt;
          }, rng, kIdn) {}
};

asio::awaitable<void> sleep_for(asio::any_io_executor ex, milliseconds d) {
    asio::steady_timer t(ex, d);
    co_await t.async_wait(use_nothrow);
}


// Writes one message and reads one reply line through the stream, as the SCPI session does.
asio::awaitable<Result<std::string>> ask(io::Stream& s, const std::string& message, milliseconds timeout = milliseconds(2000)) {
    if (auto w = co_await s.write(as_bytes(message), milliseconds(1000)); !w) co_return w.error();
    std::string reply;
    std::array<std::byte, 1024> buf{};
    while (reply.empty() || reply.back() != '\n') {
        auto n = co_await s.read_some(buf, timeout);
        if (!n) co_return n.error();
        reply.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    co_return reply;
}

devices::InstrumentConfig sensor_config(const std::string& port) {
    devices::InstrumentConfig cfg;
    cfg.name = "rf";
    cfg.type = "rf_power_meter";
    cfg.port = port;
    cfg.model = "USBPS-8";
    cfg.calibration_due = "2027-06-30";
    cfg.averages = 4;
    return cfg;
}

bool contains(const std::vector<std::string>& events, const std::string& e) { return std::find(events.begin(), events.end(), e) != events.end(); }

}  // namespace

TEST_CASE("usbtmc: *IDN? over libusb to a simulated power sensor, cleared at open, tags in order") {
    rigsim::UmockdevUsb usb;
    Sensor s;
    s.device.set_faults({.clear_pending_polls = 2});
    usb.add_usbtmc(s.device, kVid, kPid, 2);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "usbtmc:1AB1:04CE");
        REQUIRE_MESSAGE(port, (port ? "" : port.error().message));
        CHECK((*port)->name() == "usbtmc:1AB1:04CE");
        auto idn = co_await ask(**port, "*IDN?\n");
        REQUIRE_MESSAGE(idn, (idn ? "" : idn.error().message));
        CHECK(*idn == kIdn + "\n");
        // A command gets no REQUEST_DEV_DEP_MSG_IN: IEEE 488.2 forbids reading without a query.
        REQUIRE(co_await (*port)->write(as_bytes(std::string("SENS:FREQ 5.8E9\n")), milliseconds(1000)));
        std::array<std::byte, 64> buf{};
        auto none = co_await (*port)->read_some(buf, milliseconds(150));
        CHECK(none.error().code == Errc::timeout);
        auto read = co_await ask(**port, "READ?\n");
        REQUIRE(read);
        INFO(*read);
        CHECK(std::abs(std::stod(*read) + 12.5) < 0.5);
    });
    const std::vector<std::string> expected{"clear", "check_clear", "check_clear", "check_clear", "message *IDN?", "request tag 2 max 4096",
                                            "message SENS:FREQ 5.8E9", "message READ?", "request tag 5 max 4096"};
    CHECK(fmt::format("{}", fmt::join(s.device.events(), " | ")) == fmt::format("{}", fmt::join(expected, " | ")));
    CHECK(usb.unknown_requests().empty());
}

TEST_CASE("usbtmc: a reply longer than one transfer is asked for again until EOM") {
    rigsim::UmockdevUsb usb;
    Sensor s;
    s.device.set_faults({.chunk = 8});
    usb.add_usbtmc(s.device, kVid, kPid, 2);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "usbtmc:1ab1:04ce:SIM-UPS-0042");
        REQUIRE(port);
        auto idn = co_await ask(**port, "*IDN?\n");
        REQUIRE(idn);
        CHECK(*idn == kIdn + "\n");
    });
    const auto events = s.device.events();
    const auto requests = std::count_if(events.begin(), events.end(), [](const std::string& e) { return e.rfind("request tag", 0) == 0; });
    CHECK(requests == static_cast<long>((kIdn.size() + 1 + 7) / 8));  // 34 bytes in 8-byte pieces
}

TEST_CASE("usbtmc: a reply given up on is aborted (INITIATE_ABORT_BULK_IN with its bTag) before the next message") {
    rigsim::UmockdevUsb usb;
    Sensor s;
    usb.add_usbtmc(s.device, kVid, kPid, 2);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "usbtmc:1ab1:04ce");
        REQUIRE(port);
        s.device.set_faults({.reply_delay_s = 30});  // a measurement that never finishes in time
        auto slow = co_await ask(**port, "READ?\n", milliseconds(200));
        REQUIRE_FALSE(slow);
        CHECK(slow.error().code == Errc::timeout);
        CHECK(slow.error().message == "usbtmc:1ab1:04ce: no data within 200 ms");
        s.device.set_faults({});
        auto idn = co_await ask(**port, "*IDN?\n");
        REQUIRE_MESSAGE(idn, (idn ? "" : idn.error().message));
        CHECK(*idn == kIdn + "\n");  // not the stale READ? reply
    });
    const auto events = s.device.events();
    CHECK(contains(events, "request tag 2 max 4096"));
    CHECK(contains(events, "abort_in tag 2"));
    CHECK(contains(events, "message *IDN?"));
}

TEST_CASE("usbtmc: a Bulk-OUT the instrument never takes times out and is aborted") {
    rigsim::UmockdevUsb usb;
    Sensor s;
    usb.add_usbtmc(s.device, kVid, kPid, 2);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "usbtmc:1ab1:04ce");
        REQUIRE(port);
        s.device.set_faults({.hold_out = true});
        auto w = co_await (*port)->write(as_bytes(std::string("*RST\n")), milliseconds(200));
        REQUIRE_FALSE(w);
        CHECK(w.error().code == Errc::timeout);
        CHECK(w.error().message == "usbtmc:1ab1:04ce: write blocked for 200 ms (Bulk-OUT aborted)");
        s.device.set_faults({});
        auto idn = co_await ask(**port, "*IDN?\n");
        REQUIRE(idn);
        CHECK(*idn == kIdn + "\n");
    });
    CHECK(contains(s.device.events(), "held tag 1"));
    CHECK(contains(s.device.events(), "abort_out tag 1"));
}

TEST_CASE("usbtmc: READ_STATUS_BYTE through the control pipe and through Interrupt-IN") {
    for (const bool interrupt : {false, true}) {
        CAPTURE(interrupt);
        rigsim::UmockdevUsb usb;
        Sensor s("SIM-UPS-0042", interrupt);
        usb.add_usbtmc(s.device, kVid, kPid, 2);
        run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            auto port = co_await io::open(ex, "usbtmc:1ab1:04ce");
            REQUIRE(port);
            auto& tmc = dynamic_cast<io::UsbtmcPort&>(**port);
            auto idle = co_await tmc.read_status_byte(milliseconds(500));
            REQUIRE_MESSAGE(idle, (idle ? "" : idle.error().message));
            CHECK(*idle == 0x00);
            REQUIRE(co_await tmc.write(as_bytes(std::string("*IDN?\n")), milliseconds(1000)));
            auto waiting = co_await tmc.read_status_byte(milliseconds(500));
            REQUIRE(waiting);
            CHECK(*waiting == 0x10);  // MAV: a reply is waiting
            std::array<std::byte, 128> buf{};
            auto n = co_await tmc.read_some(buf, milliseconds(1000));
            REQUIRE(n);
        });
        CHECK(contains(s.device.events(), "read_status_byte tag 2"));
        CHECK(contains(s.device.events(), "read_status_byte tag 3"));
    }
}

TEST_CASE("usbtmc: the SCPI RF meter driver runs unchanged over USB") {
    rigsim::UmockdevUsb usb;
    Sensor s;
    usb.add_usbtmc(s.device, kVid, kPid, 2);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto cfg = sensor_config("usbtmc:1ab1:04ce:SIM-UPS-0042");
        cfg.offset_db = 30.0;
        devices::RunControl control;
        auto meter = co_await devices::ScpiRfMeter::open(ex, cfg, control, {});
        REQUIRE_MESSAGE(meter, (meter ? "" : meter.error().message));
        CHECK((*meter)->identity().serial == "SIM-UPS-0042");
        auto dbm = co_await (*meter)->read_dbm(5.8e9);
        REQUIRE_MESSAGE(dbm, (dbm ? "" : dbm.error().message));
        CHECK(std::abs(*dbm - 17.5) < 0.5);  // -12.5 dBm at the sensor, 30 dB of attenuator and cable added back
    });
    CHECK(contains(s.device.events(), "message SENS:CORR:GAIN2 30"));
}

TEST_CASE("usbtmc: errors name the port: absent, ambiguous, wrong serial, plain USBTMC status byte") {
    rigsim::UmockdevUsb usb;
    Sensor a("SIM-UPS-0001"), b("SIM-UPS-0002");
    usb.add_usbtmc(a.device, kVid, kPid, 2);
    usb.add_usbtmc(b.device, kVid, kPid, 3);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        // Each failed open creates and ends the process's libusb context: 50 in a row. (A stress,
        // not a proof: rigd once ended a context on its own worker thread and aborted with
        // "Resource deadlock avoided"; that race did not show here before its fix.)
        for (int i = 0; i < 50; ++i) {
            auto absent = co_await io::open(ex, "usbtmc:1ab1:04cf");
            REQUIRE(absent.error().message == "usbtmc:1ab1:04cf: no USB device 1ab1:04cf is connected");
        }
        auto two = co_await io::open(ex, "usbtmc:1ab1:04ce");
        CHECK(two.error().message ==
              "usbtmc:1ab1:04ce: 2 USBTMC devices 1ab1:04ce are connected (serials SIM-UPS-0001, SIM-UPS-0002): name one, usbtmc:1ab1:04ce:SERIAL");
        auto wrong = co_await io::open(ex, "usbtmc:1ab1:04ce:NOPE");
        CHECK(wrong.error().message ==
              "usbtmc:1ab1:04ce:NOPE: no USBTMC device 1ab1:04ce with serial 'NOPE' (bus 1 device 2 has serial 'SIM-UPS-0001'; bus 1 device 3 has serial 'SIM-UPS-0002')");
        auto second = co_await io::open(ex, "usbtmc:1ab1:04ce:SIM-UPS-0002");
        REQUIRE(second);
        auto idn = co_await ask(**second, "*IDN?\n");
        REQUIRE(idn);
    });
    CHECK(contains(b.device.events(), "message *IDN?"));
    CHECK_FALSE(contains(a.device.events(), "message *IDN?"));

    // A plain USBTMC interface (protocol 0) has no status byte to poll: refused, not sent.
    Sensor plain("SIM-UPS-0003", false, false);
    usb.add_usbtmc(plain.device, kVid, 0x04cf, 4);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "usbtmc:1ab1:04cf");
        REQUIRE_MESSAGE(port, (port ? "" : port.error().message));
        auto stb = co_await dynamic_cast<io::UsbtmcPort&>(**port).read_status_byte(milliseconds(500));
        REQUIRE_FALSE(stb);
        CHECK(stb.error().message == "usbtmc:1ab1:04cf: READ_STATUS_BYTE needs a USB488 interface; this one is plain USBTMC");
        auto idn = co_await ask(**port, "*IDN?\n");
        REQUIRE(idn);
    });
    for (const auto& e : plain.device.events()) CHECK(e.rfind("read_status_byte", 0) != 0);
}

TEST_CASE("usbtmc: a device unplugged mid-query fails the read at once, naming the port; hotplug sees it come back") {
    rigsim::UmockdevUsb usb;
    Sensor s;
    const auto syspath = usb.add_usbtmc(s.device, kVid, kPid, 2);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "usbtmc:1ab1:04ce");
        REQUIRE(port);
        s.device.set_faults({.reply_delay_s = 30});
        REQUIRE(co_await (*port)->write(as_bytes(std::string("READ?\n")), milliseconds(1000)));
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
            co_await sleep_for(ex, milliseconds(200));
            usb.unplug(syspath);
        }, asio::detached);
        const auto t0 = steady_clock::now();
        std::array<std::byte, 64> buf{};
        Result<std::size_t> r = make_error(Errc::timeout, "");
        while (!r && r.error().code == Errc::timeout && steady_clock::now() - t0 < seconds(10)) r = co_await (*port)->read_some(buf, milliseconds(1000));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == Errc::io_error);
        CHECK(r.error().message == "usbtmc:1ab1:04ce: device unplugged");
        auto w = co_await (*port)->write(as_bytes(std::string("*IDN?\n")), milliseconds(500));
        CHECK(w.error().message == "usbtmc:1ab1:04ce: device unplugged");

        // It comes back (a new address, as after re-enumeration): hotplug tells, and it opens.
        Sensor again;
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
            co_await sleep_for(ex, milliseconds(200));
            usb.add_usbtmc(again.device, kVid, kPid, 5);
        }, asio::detached);
        CHECK(co_await io::usb_arrival(ex, *io::parse_uri("usbtmc:1ab1:04ce"), milliseconds(5000)));
        auto reopened = co_await io::open(ex, "usbtmc:1ab1:04ce");
        REQUIRE_MESSAGE(reopened, (reopened ? "" : reopened.error().message));
        auto idn = co_await ask(**reopened, "*IDN?\n");
        REQUIRE(idn);
        CHECK(*idn == kIdn + "\n");
        CHECK_FALSE(co_await io::usb_arrival(ex, *io::parse_uri("usbtmc:1ab1:9999"), milliseconds(100)));
    });
}

TEST_CASE("usb-serial: libserialport finds an emulated CDC-ACM port by VID:PID:SERIAL, and again after re-enumeration") {
    rigsim::UmockdevUsb usb;
    const auto tty = usb.add_acm(0x0483, 0x5740, "FC0001", 4, 0);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "usb-serial:0483:5740:FC0001");
        REQUIRE_MESSAGE(port, (port ? "" : port.error().message));
        REQUIRE(co_await (*port)->write(as_bytes(std::string("$M<")), milliseconds(500)));
        std::array<char, 16> got{};
        const int fd = usb.acm_fd(tty);
        REQUIRE(fd >= 0);
        ssize_t n = -1;
        for (int i = 0; i < 100 && n <= 0; ++i) {
            n = ::read(fd, got.data(), got.size());
            if (n <= 0) co_await sleep_for(ex, milliseconds(10));
        }
        CHECK(std::string(got.data(), static_cast<std::size_t>(std::max<ssize_t>(n, 0))) == "$M<");
        auto other = co_await io::open(ex, "usb-serial:0483:5740:FC0002");
        CHECK(other.error().message == "usb-serial:0483:5740:FC0002: no USB serial device with that VID:PID:SERIAL");
    });
    usb.unplug("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4");
    usb.add_acm(0x0483, 0x5740, "FC0001", 6, 1);
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto port = co_await io::open(ex, "usb-serial:0483:5740:FC0001");
        REQUIRE_MESSAGE(port, (port ? "" : port.error().message));
    });
}

TEST_CASE("vtx.power with a USB power sensor unplugged mid-step: the step fails naming the instrument and its port, and claims no reading") {
    rigsim::UmockdevUsb usb;
    Sensor s;
    const auto syspath = usb.add_usbtmc(s.device, kVid, kPid, 2);
    test::Bench bench;
    run_coro([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        const auto cfg = sensor_config("usbtmc:1ab1:04ce");
        auto meter = co_await devices::ScpiRfMeter::open(ex, cfg, bench.control, {});
        REQUIRE(meter);
        bench.ctx.rf = meter->get();
        s.device.set_faults({.reply_delay_s = 30});  // the reading is still being averaged when the cable goes
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
            co_await sleep_for(ex, milliseconds(300));
            usb.unplug(syspath);
        }, asio::detached);
        auto spec = test::spec("vtx.power", {{"band", 5.0}, {"channel", 1.0}, {"levels", std::string("1")}, {"level_mw", std::string("25")},
                                                     {"channels", std::string("4")}, {"settle_ms", 0.0}});
        auto out = co_await steps::vtx_power(bench.ctx, spec);
        REQUIRE_FALSE(out);
        CHECK(out.error().code == Errc::io_error);
        CHECK(out.error().message == "rf (usbtmc:1ab1:04ce): usbtmc:1ab1:04ce: device unplugged");
        CHECK((*meter)->lost());  // the station reopens it (and waits for its return) before the next unit
    });
    CHECK(bench.vtx.calls == std::vector<std::string>{"set 5 1 1 false"});
}
