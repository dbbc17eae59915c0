#include "rig/devices/jig.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <fmt/format.h>

namespace rig::devices {

namespace {
asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}
}  // namespace

JigStatus decode_status(std::uint8_t s) {
    return JigStatus{(s & jig::status::dut_power) != 0, (s & jig::status::lid_closed) != 0,
                     (s & jig::status::dut_present) != 0, (s & jig::status::watchdog_tripped) != 0};
}

struct Jig::Backup {
    std::atomic<Clock::rep> io_alive{0}, last_request{0};
    std::atomic<std::uint8_t> seq{0x80};  // its own sequence space: replies are skipped by transact
    std::atomic<std::uint64_t> sent{0};
    std::jthread thread;
};

Jig::Jig(std::unique_ptr<io::Stream> stream, const RunControl& control) : stream_(std::move(stream)), control_(control) {}

Jig::~Jig() { stop_backup_heartbeat(); }

void Jig::io_tick() {
    if (backup_) backup_->io_alive.store(Clock::now().time_since_epoch().count());
}

void Jig::note_request() {
    last_request_ = Clock::now();
    if (backup_) backup_->last_request.store(last_request_.time_since_epoch().count());
}

void Jig::start_backup_heartbeat() {
    stop_backup_heartbeat();
    auto b = std::make_shared<Backup>();
    const auto now = Clock::now().time_since_epoch().count();
    b->io_alive = now;
    b->last_request = now;
    io::Stream* stream = stream_.get();
    b->thread = std::jthread([b = b.get(), stream](std::stop_token stop) {
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        while (!stop.stop_requested()) {
            cv.wait_for(lock, stop, kHeartbeatPeriod / 2, [] { return false; });
            if (stop.stop_requested()) break;
            const auto now = Clock::now();
            const Clock::time_point alive{Clock::duration(b->io_alive.load())};
            const Clock::time_point last{Clock::duration(b->last_request.load())};
            if (now - alive > kIoStallLimit) continue;  // rigd is hung: let the jig's watchdog act
            if (now - last < kHeartbeatPeriod) continue;
            const jig::Frame hb{jig::Kind::request, b->seq++, jig::Command::heartbeat, {}};
            if (stream->write_from_any_thread(jig::encode(hb))) {
                b->last_request.store(now.time_since_epoch().count());
                ++b->sent;
            }
        }
    });
    backup_ = std::move(b);
}

void Jig::stop_backup_heartbeat() {
    if (!backup_) return;
    backup_->thread.request_stop();
    if (backup_->thread.joinable()) backup_->thread.join();
    backup_.reset();
}

asio::awaitable<Result<jig::Frame>> Jig::transact(jig::Command cmd, ByteView payload, bool ignore_control) {
    // One request in flight: the keepalive and a step may both want the port.
    while (busy_) co_await pause(std::chrono::milliseconds(1));
    busy_ = true;
    struct Release {
        bool& b;
        ~Release() { b = false; }
    } release{busy_};

    auto timeout = kTimeout;
    if (!ignore_control) {
        auto b = control_.budget(kTimeout);
        if (!b) co_return b.error();
        timeout = *b;
    }
    const std::uint8_t seq = seq_++;
    const auto started = Clock::now();
    // Named locals, not temporaries, around co_await: g++ 12 can destroy such temporaries twice.
    const jig::Frame request{jig::Kind::request, seq, cmd, Bytes(payload.begin(), payload.end())};
    const Bytes wire = jig::encode(request);
    auto sent = co_await stream_->write(wire, timeout);
    if (!sent) co_return sent.error();
    note_request();
    std::array<std::byte, 256> buf{};
    for (;;) {
        const auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
        if (left.count() <= 0)
            co_return make_error(Errc::timeout, fmt::format("{}: jig did not answer {} within {} ms", stream_->name(), jig::command_name(cmd), timeout.count()));
        auto n = co_await stream_->read_some(buf, left);
        if (!n) {
            if (n.error().code == Errc::timeout)
                co_return make_error(Errc::timeout, fmt::format("{}: jig did not answer {} within {} ms", stream_->name(), jig::command_name(cmd), timeout.count()));
            co_return n.error();
        }
        for (auto& f : parser_.feed(ByteView(buf.data(), *n))) {
            if (f.seq != seq || f.command != cmd) continue;  // a late reply to an earlier, timed-out request
            if (f.kind == jig::Kind::error) {
                auto e = jig::decode_error(f.payload);
                co_return make_error(Errc::protocol_error, fmt::format("{}: jig refused {}: {} (code {})", stream_->name(), jig::command_name(cmd),
                                                                       e ? e->message : "?", e ? static_cast<int>(e->code) : 0));
            }
            co_return std::move(f);
        }
    }
}

namespace {
Result<JigStatus> status_of(Result<jig::Frame>&& f, const std::string& port) {
    if (!f) return f.error();
    if (f->payload.empty()) return make_error(Errc::protocol_error, port + ": jig status reply is empty");
    return decode_status(std::to_integer<std::uint8_t>(f->payload[0]));
}
}  // namespace

asio::awaitable<Result<jig::Identity>> Jig::identify() {
    auto f = co_await transact(jig::Command::identify, ByteView{}, false);
    if (!f) co_return f.error();
    co_return jig::decode_identity(f->payload);
}

asio::awaitable<Result<JigStatus>> Jig::heartbeat() {
    auto reply = co_await transact(jig::Command::heartbeat, ByteView{}, true);
    co_return status_of(std::move(reply), port());
}

asio::awaitable<Result<JigStatus>> Jig::set_dut_power(bool on) {
    const Bytes payload(1, static_cast<std::byte>(on ? 1 : 0));
    auto reply = co_await transact(jig::Command::set_dut_power, payload, false);
    co_return status_of(std::move(reply), port());
}

asio::awaitable<Result<JigStatus>> Jig::force_power_off() {
    Result<JigStatus> last = make_error(Errc::io_error, "not tried");
    // Twice: a single lost frame must not leave the DUT powered (the watchdog is the last resort).
    for (int attempt = 0; attempt < 2; ++attempt) {
        const Bytes off(1, std::byte{0});
        auto reply = co_await transact(jig::Command::set_dut_power, off, true);
        last = status_of(std::move(reply), port());
        if (last) co_return last;
    }
    co_return last;
}

asio::awaitable<Result<jig::Supply>> Jig::read_supply() {
    auto f = co_await transact(jig::Command::read_dut_supply, ByteView{}, false);
    if (!f) co_return f.error();
    co_return jig::decode_supply(f->payload);
}

asio::awaitable<Result<JigStatus>> Jig::read_lid() {
    auto reply = co_await transact(jig::Command::read_lid, ByteView{}, true);
    co_return status_of(std::move(reply), port());
}

asio::awaitable<Result<std::string>> Jig::read_barcode() {
    auto f = co_await transact(jig::Command::read_barcode, ByteView{}, true);
    if (!f) co_return f.error();
    ByteReader r(f->payload);
    auto s = r.pstring();
    if (!s) co_return make_error(Errc::protocol_error, port() + ": READ_BARCODE reply truncated");
    co_return *s;
}

asio::awaitable<Result<void>> Jig::set_stack_light(std::uint8_t lamps) {
    const Bytes payload(1, static_cast<std::byte>(lamps));
    auto f = co_await transact(jig::Command::set_stack_light, payload, true);
    if (!f) co_return f.error();
    co_return Result<void>{};
}

asio::awaitable<Result<void>> Jig::buzzer(std::chrono::milliseconds d) {
    const Bytes payload = ByteWriter().u16le(static_cast<std::uint16_t>(d.count())).take();
    auto f = co_await transact(jig::Command::buzzer, payload, true);
    if (!f) co_return f.error();
    co_return Result<void>{};
}

asio::awaitable<void> Jig::keepalive(std::function<void(const Result<JigStatus>&)> on_status) {
    stopping_ = false;
    while (!stopping_) {
        co_await pause(std::chrono::milliseconds(20));
        io_tick();
        if (stopping_) break;
        if (busy_ || Clock::now() - last_request_ < kHeartbeatPeriod) continue;
        auto s = co_await heartbeat();
        if (on_status) on_status(s);
    }
}

}  // namespace rig::devices
