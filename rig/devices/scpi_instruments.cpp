#include "rig/devices/scpi_instruments.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <fmt/format.h>

namespace rig::devices {

using namespace std::chrono;

namespace {

constexpr int kMaxErrorReads = 20;          // a queue holds a few dozen at most; -350 ends it
constexpr milliseconds kReadTimeout{3000};  // READ? / MEAS? with averaging take longer
constexpr double kScpiOverload = 9.9e37;    // SCPI's "no number": overload, under-range, NaN

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

std::string text_of(const Bytes& b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

// One program message without its terminator: the client ends each message with LF itself.
std::string line(std::string_view header, const std::vector<scpi::Arg>& args) {
    auto text = scpi::command(header, args);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

}  // namespace

ScpiLink::ScpiLink(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, std::string name, const RunControl& control, Log log)
    : control_(control), who_(fmt::format("{} ({})", name, stream->name())), pump_(ex, std::move(stream), client_, std::move(log)) {}

asio::awaitable<Result<Bytes>> ScpiLink::call(session::RequestId id) {
    auto reply = co_await pump_.wait(id);
    if (!reply) co_return make_error(reply.error().code, fmt::format("{}: {}", who_, reply.error().message));
    co_return reply;
}

asio::awaitable<Result<std::string>> ScpiLink::query(std::string text, milliseconds timeout, bool bounded) {
    if (bounded) {
        auto b = control_.budget(timeout);
        if (!b) co_return b.error();
        timeout = *b;
    }
    auto reply = co_await call(client_.query(text, timeout));
    if (!reply) {
        if (reply.error().code == Errc::timeout)
            co_return make_error(Errc::timeout, fmt::format("{}: no reply to {} within {} ms", who_, text, timeout.count()));
        co_return reply.error();
    }
    co_return text_of(*reply);
}

asio::awaitable<Result<double>> ScpiLink::query_number(std::string text, milliseconds timeout, bool bounded) {
    auto reply = co_await query(text, timeout, bounded);
    if (!reply) co_return reply.error();
    auto v = scpi::parse_number(*reply);
    if (!v) co_return make_error(Errc::protocol_error, fmt::format("{}: {} answered '{}': {}", who_, text, reply->substr(0, 40), v.error().message));
    if (!std::isfinite(*v) || std::abs(*v) >= kScpiOverload)  // 9.91E37 is SCPI NAN, 9.9E37 INF
        co_return make_error(Errc::protocol_error, fmt::format("{}: {} answered {} (overload or no valid reading)", who_, text, *reply));
    co_return *v;
}

asio::awaitable<Result<void>> ScpiLink::command(std::string text, bool bounded) {
    if (bounded)
        if (auto b = control_.budget(kQueryTimeout); !b) co_return b.error();
    auto r = co_await call(client_.command(std::move(text)));
    if (!r) co_return r.error();
    co_return Result<void>{};
}

asio::awaitable<Result<void>> ScpiLink::configure(const std::vector<std::string>& commands, bool bounded) {
    for (const auto& c : commands)
        if (auto r = co_await command(c, bounded); !r) co_return r.error();
    // The error queue is read to its end: an instrument keeps an error until it is read, and a
    // stale one would otherwise be blamed on the next configuration.
    std::optional<scpi::ErrorEntry> first;
    for (int i = 0; i < kMaxErrorReads; ++i) {
        auto reply = co_await query("SYST:ERR?", kQueryTimeout, bounded);
        if (!reply) co_return reply.error();
        auto e = scpi::parse_error(*reply);
        if (!e) co_return make_error(Errc::protocol_error, fmt::format("{}: SYST:ERR? answered '{}': {}", who_, reply->substr(0, 60), e.error().message));
        if (!e->is_error()) break;
        if (!first) first = *e;
    }
    if (first) {
        std::string sent;
        for (const auto& c : commands) sent += (sent.empty() ? "" : "; ") + c;
        co_return make_error(Errc::protocol_error, fmt::format("{}: SCPI error {},\"{}\" after {}", who_, first->code, first->message, sent));
    }
    co_return Result<void>{};
}

asio::awaitable<Result<scpi::Identity>> ScpiLink::identify(const std::string& expected_model) {
    auto reply = co_await query("*IDN?", kQueryTimeout, false);
    if (!reply) co_return reply.error();
    auto id = scpi::parse_idn(*reply);
    if (!id) co_return make_error(Errc::protocol_error, fmt::format("{}: *IDN? answered '{}': {}", who_, reply->substr(0, 60), id.error().message));
    if (upper(id->model) != upper(expected_model))
        co_return make_error(Errc::invalid_argument, fmt::format("{}: *IDN? names model '{}' ({} serial {}), the jig file expects '{}'", who_,
                                                                 id->model, id->vendor, id->serial, expected_model));
    co_return *id;
}

asio::awaitable<Result<std::unique_ptr<ScpiLink>>> open_scpi(asio::any_io_executor ex, const InstrumentConfig& cfg, const RunControl& control,
                                                             Log log, InstrumentIdentity& identity) {
    auto stream = co_await io::open(ex, cfg.port);
    if (!stream) co_return make_error(stream.error().code, fmt::format("{}: {}", cfg.name, stream.error().message));
    auto link = std::make_unique<ScpiLink>(ex, std::move(*stream), cfg.name, control, std::move(log));
    auto id = co_await link->identify(cfg.model);
    if (!id) co_return id.error();
    identity = {cfg.name, cfg.type, cfg.port, id->vendor, id->model, id->serial, id->firmware, cfg.calibration_due};
    co_return link;
}

// ---- programmable supply ------------------------------------------------------------------

ScpiPsu::ScpiPsu(std::unique_ptr<ScpiLink> link, InstrumentConfig cfg, InstrumentIdentity id)
    : ScpiInstrument(std::move(link), std::move(id)), cfg_(std::move(cfg)) {}

asio::awaitable<Result<std::unique_ptr<ScpiPsu>>> ScpiPsu::open(asio::any_io_executor ex, const InstrumentConfig& cfg, const RunControl& control,
                                                                Log log) {
    InstrumentIdentity id;
    auto link = co_await open_scpi(ex, cfg, control, std::move(log), id);
    if (!link) co_return link.error();
    // Output off first: whatever the last run left, the DUT is unpowered until a unit is tested.
    std::vector<std::string> setup{"*CLS", "OUTP OFF", line("VOLT", {cfg.voltage_v}), line("CURR", {cfg.current_limit_a})};
    if (cfg.ovp_v > 0) setup.push_back(line("VOLT:PROT", {cfg.ovp_v}));
    if (auto r = co_await (*link)->configure(setup, false); !r) co_return r.error();
    // A supply may clamp a setting it cannot reach without an error: read them back.
    // (std::array, not a C array or an initializer list: g++ 12 cannot put those in a
    // coroutine frame.)
    const std::array<std::string, 2> queries{"VOLT?", "CURR?"};
    const std::array<double, 2> wanted{cfg.voltage_v, cfg.current_limit_a};
    for (int i = 0; i < 2; ++i) {
        const auto& query = queries[i];
        const double want = wanted[i];
        auto got = co_await (*link)->query_number(query, ScpiLink::kQueryTimeout, false);
        if (!got) co_return got.error();
        if (std::abs(*got - want) > 0.01 * want + 1e-3)
            co_return make_error(Errc::protocol_error, fmt::format("{}: {} reads back {} after setting {}", (*link)->who(), query, *got, want));
    }
    co_return std::make_unique<ScpiPsu>(std::move(*link), cfg, std::move(id));
}

asio::awaitable<Result<void>> ScpiPsu::output(bool on) {
    if (on) inrush_.reset();  // a new power-on: the last unit's inrush is not this one's
    // Teardown switches it off: never bounded by the step. *OPC? confirms it was carried out.
    if (auto r = co_await link_->command(on ? "OUTP ON" : "OUTP OFF", false); !r) co_return r.error();
    auto done = co_await link_->query("*OPC?", ScpiLink::kQueryTimeout, false);
    if (!done) co_return done.error();
    if (on)
        if (auto r = co_await link_->configure(std::vector<std::string>{}, false); !r) co_return r.error();
    co_return Result<void>{};
}

asio::awaitable<Result<PsuReading>> ScpiPsu::measure() {
    auto v = co_await link_->query_number("MEAS:VOLT?", kReadTimeout);
    if (!v) co_return v.error();
    auto a = co_await link_->query_number("MEAS:CURR?", kReadTimeout);
    if (!a) co_return a.error();
    PsuReading r{*v, *a, cfg_.voltage_v, cfg_.current_limit_a, false};
    // A supply in CV holds its terminal voltage; below it, it is limiting current (CC, or a
    // foldback below its setting), whatever the vendor's status registers are called.
    r.current_limited = *v < 0.98 * cfg_.voltage_v;
    co_return r;
}

asio::awaitable<Result<Inrush>> ScpiPsu::capture_inrush(milliseconds window) {
    Inrush in{0, 0, window};
    const auto until = steady_clock::now() + window;
    while (steady_clock::now() < until) {
        auto a = co_await link_->query_number("MEAS:CURR?", kReadTimeout);
        if (!a) co_return a.error();
        in.peak_a = std::max(in.peak_a, *a);
        ++in.samples;
    }
    inrush_ = in;
    co_return in;
}

Result<Inrush> ScpiPsu::inrush() const {
    if (!inrush_) return make_error(Errc::not_found, fmt::format("{}: no inrush captured at this unit's power-on", link_->who()));
    return *inrush_;
}

asio::awaitable<Result<std::string>> ScpiPsu::protection_tripped() {
    std::string tripped;
    const std::array<std::string, 2> queries{"VOLT:PROT:TRIP?", "CURR:PROT:TRIP?"}, names{"over-voltage", "over-current"};
    for (int i = 0; i < 2; ++i) {
        const auto& query = queries[i];
        const auto& what = names[i];
        auto reply = co_await link_->query(query);
        if (!reply) co_return reply.error();
        auto on = scpi::parse_bool(*reply);
        if (!on) co_return make_error(Errc::protocol_error, fmt::format("{}: {} answered '{}'", link_->who(), query, reply->substr(0, 40)));
        if (*on) tripped += (tripped.empty() ? "" : ", ") + what;
    }
    co_return tripped;
}

// ---- RF power meter -----------------------------------------------------------------------

ScpiRfMeter::ScpiRfMeter(std::unique_ptr<ScpiLink> link, InstrumentIdentity id) : ScpiInstrument(std::move(link), std::move(id)) {}

asio::awaitable<Result<std::unique_ptr<ScpiRfMeter>>> ScpiRfMeter::open(asio::any_io_executor ex, const InstrumentConfig& cfg,
                                                                        const RunControl& control, Log log) {
    InstrumentIdentity id;
    auto link = co_await open_scpi(ex, cfg, control, std::move(log), id);
    if (!link) co_return link.error();
    // The offset (GAIN2 on Keysight meters) adds the jig's attenuation and cable loss back, so
    // a reading is the power at the VTX's antenna port.
    const std::vector<std::string> setup{"*CLS",
                                         "UNIT:POW DBM",
                                         line("SENS:AVER:COUN", {static_cast<long long>(cfg.averages)}),
                                         "SENS:AVER:STAT ON",
                                         line("SENS:CORR:GAIN2", {cfg.offset_db}),
                                         "SENS:CORR:GAIN2:STAT ON"};
    if (auto r = co_await (*link)->configure(setup, false); !r) co_return r.error();
    co_return std::make_unique<ScpiRfMeter>(std::move(*link), std::move(id));
}

asio::awaitable<Result<double>> ScpiRfMeter::read_dbm(double frequency_hz) {
    if (frequency_hz != frequency_hz_) {
        std::vector<std::string> set(1, line("SENS:FREQ", std::vector<scpi::Arg>(1, frequency_hz)));
        if (auto r = co_await link_->configure(set); !r) co_return r.error();
        frequency_hz_ = frequency_hz;
    }
    co_return co_await link_->query_number("READ?", kReadTimeout);
}

// ---- DMM ----------------------------------------------------------------------------------

ScpiDmm::ScpiDmm(std::unique_ptr<ScpiLink> link, InstrumentIdentity id) : ScpiInstrument(std::move(link), std::move(id)) {}

asio::awaitable<Result<std::unique_ptr<ScpiDmm>>> ScpiDmm::open(asio::any_io_executor ex, const InstrumentConfig& cfg, const RunControl& control,
                                                                Log log) {
    InstrumentIdentity id;
    auto link = co_await open_scpi(ex, cfg, control, std::move(log), id);
    if (!link) co_return link.error();
    const std::vector<std::string> setup(1, "*CLS");
    if (auto r = co_await (*link)->configure(setup, false); !r) co_return r.error();
    co_return std::make_unique<ScpiDmm>(std::move(*link), std::move(id));
}

asio::awaitable<Result<double>> ScpiDmm::measure(Quantity q) {
    const char* query = q == Quantity::dc_voltage ? "MEAS:VOLT:DC?" : q == Quantity::dc_current ? "MEAS:CURR:DC?" : "MEAS:RES?";
    co_return co_await link_->query_number(query, kReadTimeout);
}

}  // namespace rig::devices
