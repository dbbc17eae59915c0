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
    : control_(&control), who_(fmt::format("{} ({})", name, stream->name())), lock_(who_), pump_(ex, std::move(stream), client_, std::move(log)) {}

asio::awaitable<Result<Bytes>> ScpiLink::call(session::RequestId id) {
    auto reply = co_await pump_.wait(id);
    if (!reply) co_return make_error(reply.error().code, fmt::format("{}: {}", who_, reply.error().message));
    co_return reply;
}

asio::awaitable<Result<std::string>> ScpiLink::query(std::string text, milliseconds timeout, bool bounded) {
    if (bounded) {
        auto b = control_->budget(timeout);
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
        if (auto b = control_->budget(kQueryTimeout); !b) co_return b.error();
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

// ---- shared links -------------------------------------------------------------------------

asio::awaitable<Result<std::shared_ptr<ScpiLink>>> ScpiLinkPool::link(asio::any_io_executor ex, const InstrumentConfig& cfg, const RunControl& control,
                                                                      Log log, InstrumentIdentity& identity) {
    auto& e = entries_[io::device_key(cfg.port)];
    if (!e.opening) e.opening = std::make_unique<InstrumentLock>(cfg.name + " (" + cfg.port + ") opening");
    // Nests start together: the first opens the instrument, the others wait and join its link.
    auto turn = co_await e.opening->acquire("open", milliseconds(cfg.lock_timeout_ms), nullptr);
    if (!turn) co_return turn.error();
    if (auto l = e.link.lock(); l && l->lost().empty()) {
        if (upper(e.identity.model) != upper(cfg.model))
            co_return make_error(Errc::invalid_argument, fmt::format("{}: *IDN? names model '{}' ({} serial {}), the jig file expects '{}'", l->who(),
                                                                     e.identity.model, e.identity.vendor, e.identity.serial, cfg.model));
        identity = {cfg.name, cfg.type, cfg.port, e.identity.vendor, e.identity.model, e.identity.serial, e.identity.firmware, cfg.calibration_due};
        co_return l;
    }
    auto opened = co_await open_scpi(ex, cfg, control, std::move(log), identity);
    if (!opened) co_return opened.error();
    std::shared_ptr<ScpiLink> l = std::move(*opened);
    e.link = l;
    e.identity = identity;
    co_return l;
}

ScpiInstrument::ScpiInstrument(std::shared_ptr<ScpiLink> link, InstrumentIdentity id, InstrumentConfig cfg, InstrumentUser user)
    : link_(std::move(link)), id_(std::move(id)), cfg_(std::move(cfg)), user_(std::move(user)) {}

asio::awaitable<Result<std::shared_ptr<ScpiLink>>> ScpiInstrument::join(asio::any_io_executor ex, const InstrumentConfig& cfg, InstrumentUser& user,
                                                                         InstrumentIdentity& id) {
    if (user.pool) co_return co_await user.pool->link(ex, cfg, user.control, user.log, id);
    auto link = co_await open_scpi(ex, cfg, user.control, user.log, id);
    if (!link) co_return link.error();
    co_return std::shared_ptr<ScpiLink>(std::move(*link));
}

asio::awaitable<Result<InstrumentLock::Lease>> ScpiInstrument::use(bool bounded, std::vector<std::string> first) {
    auto lease = co_await link_->lock().acquire(user_.nest, milliseconds(cfg_.lock_timeout_ms), bounded ? &user_.control : nullptr);
    if (!lease) co_return lease.error();
    if (lease->waited >= milliseconds(1)) {
        if (user_.log)
            user_.log(fmt::format("event=instrument_wait name={} port={} waited_ms={}", cfg_.name, cfg_.port,
                                  duration_cast<milliseconds>(lease->waited).count()));
        // The wait is the instrument's, not the step's: it is reported with the step and moves
        // its deadline, so a queue of nests never eats a step's own time.
        if (bounded) {
            user_.control.instrument_wait += lease->waited;
            if (user_.control.deadline) *user_.control.deadline += lease->waited;
        }
    }
    link_->bind(user_.control);
    const std::string me = user_.nest + "/" + cfg_.name;
    if (link_->selected() != me || !first.empty()) {
        path_changed();
        link_->set_selected("");
        // Selected first: what follows (an OUTP OFF at start-up) is meant for this user's output.
        std::vector<std::string> commands;
        if (!cfg_.select.empty()) commands.push_back(cfg_.select);
        for (auto& c : first) commands.push_back(std::move(c));
        for (auto& c : path_commands()) commands.push_back(std::move(c));
        if (auto r = co_await link_->configure(commands, bounded); !r) co_return r.error();
        link_->set_selected(me);
    }
    co_return lease;
}

// ---- programmable supply ------------------------------------------------------------------

ScpiPsu::ScpiPsu(std::shared_ptr<ScpiLink> link, InstrumentConfig cfg, InstrumentIdentity id, InstrumentUser user)
    : ScpiInstrument(std::move(link), std::move(id), std::move(cfg), std::move(user)) {}

std::vector<std::string> ScpiPsu::path_commands() const {
    std::vector<std::string> c{line("VOLT", {cfg_.voltage_v}), line("CURR", {cfg_.current_limit_a})};
    if (cfg_.ovp_v > 0) c.push_back(line("VOLT:PROT", {cfg_.ovp_v}));
    return c;
}

asio::awaitable<Result<std::unique_ptr<ScpiPsu>>> ScpiPsu::open(asio::any_io_executor ex, const InstrumentConfig& cfg, RunControl& control, Log log,
                                                                ScpiLinkPool* pool, std::string nest) {
    InstrumentUser user{std::move(nest), control, std::move(log), pool};
    InstrumentIdentity id;
    auto link = co_await join(ex, cfg, user, id);
    if (!link) co_return link.error();
    auto psu = std::make_unique<ScpiPsu>(std::move(*link), cfg, std::move(id), std::move(user));
    // Output off first: whatever the last run left, the DUT is unpowered until a unit is tested.
    std::vector<std::string> setup{"*CLS", "OUTP OFF"};
    auto lease = co_await psu->use(false, setup);
    if (!lease) co_return lease.error();
    auto& l = *psu->link_;
    // A supply may clamp a setting it cannot reach without an error: read them back.
    // (std::array, not a C array or an initializer list: g++ 12 cannot put those in a
    // coroutine frame.)
    const std::array<std::string, 2> queries{"VOLT?", "CURR?"};
    const std::array<double, 2> wanted{cfg.voltage_v, cfg.current_limit_a};
    for (int i = 0; i < 2; ++i) {
        const auto& query = queries[i];
        const double want = wanted[i];
        auto got = co_await l.query_number(query, ScpiLink::kQueryTimeout, false);
        if (!got) co_return got.error();
        if (std::abs(*got - want) > 0.01 * want + 1e-3)
            co_return make_error(Errc::protocol_error, fmt::format("{}: {} reads back {} after setting {}", l.who(), query, *got, want));
    }
    co_return psu;
}

asio::awaitable<Result<void>> ScpiPsu::output(bool on) {
    if (on) inrush_.reset();  // a new power-on: the last unit's inrush is not this one's
    // Teardown switches it off: never bounded by the step. *OPC? confirms it was carried out.
    auto lease = co_await use(false);
    if (!lease) co_return lease.error();
    if (auto r = co_await link_->command(on ? "OUTP ON" : "OUTP OFF", false); !r) co_return r.error();
    auto done = co_await link_->query("*OPC?", ScpiLink::kQueryTimeout, false);
    if (!done) co_return done.error();
    if (on)
        if (auto r = co_await link_->configure(std::vector<std::string>{}, false); !r) co_return r.error();
    co_return Result<void>{};
}

asio::awaitable<Result<PsuReading>> ScpiPsu::measure() {
    auto lease = co_await use();
    if (!lease) co_return lease.error();
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
    auto lease = co_await use();
    if (!lease) co_return lease.error();
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
    auto lease = co_await use();
    if (!lease) co_return lease.error();
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

ScpiRfMeter::ScpiRfMeter(std::shared_ptr<ScpiLink> link, InstrumentConfig cfg, InstrumentIdentity id, InstrumentUser user)
    : ScpiInstrument(std::move(link), std::move(id), std::move(cfg), std::move(user)) {}

// The offset (GAIN2 on Keysight meters) adds this nest's attenuation and cable loss back, so a
// reading is the power at the VTX's antenna port; through an RF switch each nest has its own.
std::vector<std::string> ScpiRfMeter::path_commands() const {
    return {line("SENS:AVER:COUN", {static_cast<long long>(cfg_.averages)}), line("SENS:CORR:GAIN2", {cfg_.offset_db})};
}

asio::awaitable<Result<std::unique_ptr<ScpiRfMeter>>> ScpiRfMeter::open(asio::any_io_executor ex, const InstrumentConfig& cfg, RunControl& control,
                                                                        Log log, ScpiLinkPool* pool, std::string nest) {
    InstrumentUser user{std::move(nest), control, std::move(log), pool};
    InstrumentIdentity id;
    auto link = co_await join(ex, cfg, user, id);
    if (!link) co_return link.error();
    auto meter = std::make_unique<ScpiRfMeter>(std::move(*link), cfg, std::move(id), std::move(user));
    std::vector<std::string> setup{"*CLS", "UNIT:POW DBM", "SENS:AVER:STAT ON", "SENS:CORR:GAIN2:STAT ON"};
    auto lease = co_await meter->use(false, setup);
    if (!lease) co_return lease.error();
    co_return meter;
}

asio::awaitable<Result<double>> ScpiRfMeter::read_dbm(double frequency_hz) {
    auto lease = co_await use();
    if (!lease) co_return lease.error();
    if (frequency_hz != frequency_hz_) {
        std::vector<std::string> set(1, line("SENS:FREQ", std::vector<scpi::Arg>(1, frequency_hz)));
        if (auto r = co_await link_->configure(set); !r) co_return r.error();
        frequency_hz_ = frequency_hz;
    }
    co_return co_await link_->query_number("READ?", kReadTimeout);
}

// ---- DMM ----------------------------------------------------------------------------------

ScpiDmm::ScpiDmm(std::shared_ptr<ScpiLink> link, InstrumentConfig cfg, InstrumentIdentity id, InstrumentUser user)
    : ScpiInstrument(std::move(link), std::move(id), std::move(cfg), std::move(user)) {}

asio::awaitable<Result<std::unique_ptr<ScpiDmm>>> ScpiDmm::open(asio::any_io_executor ex, const InstrumentConfig& cfg, RunControl& control, Log log,
                                                                ScpiLinkPool* pool, std::string nest) {
    InstrumentUser user{std::move(nest), control, std::move(log), pool};
    InstrumentIdentity id;
    auto link = co_await join(ex, cfg, user, id);
    if (!link) co_return link.error();
    auto dmm = std::make_unique<ScpiDmm>(std::move(*link), cfg, std::move(id), std::move(user));
    std::vector<std::string> setup(1, "*CLS");
    auto lease = co_await dmm->use(false, setup);
    if (!lease) co_return lease.error();
    co_return dmm;
}

asio::awaitable<Result<double>> ScpiDmm::measure(Quantity q) {
    auto lease = co_await use();
    if (!lease) co_return lease.error();
    const char* query = q == Quantity::dc_voltage ? "MEAS:VOLT:DC?" : q == Quantity::dc_current ? "MEAS:CURR:DC?" : "MEAS:RES?";
    co_return co_await link_->query_number(query, kReadTimeout);
}

}  // namespace rig::devices
