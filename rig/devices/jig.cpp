#include "rig/devices/jig.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <fmt/format.h>

namespace rig::devices {

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

Jig::Jig(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const RunControl& control, io::Pump::Log log)
    : control_(control), pump_(ex, std::move(stream), client_, std::move(log)) {
    // Every write and read is the io thread ticking; heartbeat answers go to the station.
    pump_.on_activity([this] { io_tick(); });
    pump_.on_unclaimed([this](session::Done&& done) {
        if (!client_.is_heartbeat(done.id) || !on_status_) return;
        if (!done.reply) {
            // One HEARTBEAT unanswered is a frame lost on the wire or a jig busy for a moment:
            // the next goes out at once. kHeartbeatMisses in a row are the link lost.
            if (done.reply.error().code == Errc::timeout && ++heartbeat_misses_ < kHeartbeatMisses) return;
            heartbeat_misses_ = 0;
            on_status_(make_error(done.reply.error().code, port() + ": " + done.reply.error().message));
            return;
        }
        heartbeat_misses_ = 0;
        if (done.reply->empty()) {
            on_status_(make_error(Errc::protocol_error, port() + ": jig status reply is empty"));
            return;
        }
        on_status_(decode_status(std::to_integer<std::uint8_t>((*done.reply)[0])));
    });
}

Jig::~Jig() { stop_backup_heartbeat(); }

void Jig::io_tick() {
    if (!backup_) return;
    backup_->io_alive.store(Clock::now().time_since_epoch().count());
    if (auto sent = client_.last_sent()) backup_->last_request.store(std::max(backup_->last_request.load(), sent->time_since_epoch().count()));
}

void Jig::start_keepalive(std::function<void(const Result<JigStatus>&)> on_status) {
    on_status_ = std::move(on_status);
    heartbeat_misses_ = 0;
    client_.keepalive(kHeartbeatPeriod, {kTimeout, 1});
    pump_.kick();
}

void Jig::stop_keepalive() {
    client_.keepalive(std::nullopt);
    on_status_ = nullptr;
}

void Jig::start_backup_heartbeat() {
    stop_backup_heartbeat();
    auto b = std::make_shared<Backup>();
    const auto now = Clock::now().time_since_epoch().count();
    b->io_alive = now;
    b->last_request = now;
    io::Stream* stream = &pump_.stream();
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

namespace {
// Re-sending is safe for every command but BUZZER (a second beep): each reads a state or sets one.
bool idempotent(jig::Command c) { return c != jig::Command::buzzer; }
}  // namespace

asio::awaitable<Result<Bytes>> Jig::transact(jig::Command cmd, Bytes payload, bool ignore_control) {
    session::Policy policy{kTimeout, idempotent(cmd) ? kAttempts : 1};
    if (!ignore_control) {
        auto b = control_.budget(kTimeout * policy.attempts);
        if (!b) co_return b.error();
        // Near the step's deadline: fewer attempts, the last one cut to what is left.
        policy.timeout = std::min(kTimeout, *b);
        policy.attempts = std::clamp(static_cast<int>(*b / kTimeout), 1, policy.attempts);
    }
    const auto id = client_.request(cmd, std::move(payload), policy);
    auto reply = co_await pump_.wait(id);
    if (!reply && reply.error().code != Errc::io_error) co_return make_error(reply.error().code, port() + ": " + reply.error().message);
    co_return reply;
}

namespace {
Result<JigStatus> status_of(Result<Bytes>&& f, const std::string& port) {
    if (!f) return f.error();
    if (f->empty()) return make_error(Errc::protocol_error, port + ": jig status reply is empty");
    return decode_status(std::to_integer<std::uint8_t>((*f)[0]));
}
}  // namespace

asio::awaitable<Result<jig::Identity>> Jig::identify() {
    auto f = co_await transact(jig::Command::identify, {}, false);
    if (!f) co_return f.error();
    co_return jig::decode_identity(*f);
}

asio::awaitable<Result<JigStatus>> Jig::heartbeat() {
    auto reply = co_await transact(jig::Command::heartbeat, {}, true);
    co_return status_of(std::move(reply), port());
}

asio::awaitable<Result<JigStatus>> Jig::set_dut_power(bool on) {
    const Bytes payload(1, static_cast<std::byte>(on ? 1 : 0));
    auto reply = co_await transact(jig::Command::set_dut_power, payload, false);
    co_return status_of(std::move(reply), port());
}

asio::awaitable<Result<JigStatus>> Jig::force_power_off() {
    // Sent kAttempts times if unanswered: a single lost frame must not leave the DUT powered (the
    // watchdog is the last resort).
    const Bytes off(1, std::byte{0});
    auto reply = co_await transact(jig::Command::set_dut_power, off, true);
    co_return status_of(std::move(reply), port());
}

asio::awaitable<Result<Supply>> Jig::read_supply() {
    auto f = co_await transact(jig::Command::read_dut_supply, {}, false);
    if (!f) co_return f.error();
    auto s = jig::decode_supply(*f);
    if (!s) co_return make_error(s.error().code, port() + ": " + s.error().message);
    co_return Supply{s->voltage_v, s->current_a};
}

asio::awaitable<Result<JigStatus>> Jig::read_lid() {
    auto reply = co_await transact(jig::Command::read_lid, {}, true);
    co_return status_of(std::move(reply), port());
}

asio::awaitable<Result<JigStatus>> Jig::status_event(std::chrono::milliseconds timeout) {
    auto reply = co_await pump_.wait(client_.status_event(timeout, std::chrono::steady_clock::now()));
    if (!reply && reply.error().code == Errc::timeout) co_return reply.error();
    co_return status_of(std::move(reply), port());
}

void Jig::interrupt_waits(const std::string& reason) {
    client_.fail_event_waits(make_error(Errc::cancelled, reason));
    pump_.kick();
}

asio::awaitable<Result<std::string>> Jig::read_barcode() {
    auto f = co_await transact(jig::Command::read_barcode, {}, true);
    if (!f) co_return f.error();
    ByteReader r(*f);
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

}  // namespace rig::devices
