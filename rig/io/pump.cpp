#include "rig/io/pump.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <array>
#include <map>

namespace rig::io {

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kWriteTimeout{500};
constexpr std::chrono::milliseconds kReadSlice{1000};  // a read wakes at least this often to see stop
}  // namespace

struct Pump::Impl : std::enable_shared_from_this<Impl> {
    asio::any_io_executor ex;
    std::unique_ptr<Stream> stream;
    session::Session& session;
    Log log;
    Unclaimed unclaimed;
    std::function<void()> activity;
    asio::steady_timer wake;
    struct Waiter {
        asio::steady_timer* signal;
        std::optional<Result<Bytes>> result;
    };
    std::map<session::RequestId, Waiter*> waiters;
    bool stopped = false;
    std::string lost;

    Impl(asio::any_io_executor e, std::unique_ptr<Stream> s, session::Session& ss, Log l)
        : ex(e), stream(std::move(s)), session(ss), log(std::move(l)), wake(e) {}

    void deliver() {
        while (auto note = session.note())
            if (log) log("port=" + stream->name() + " " + *note);
        while (auto done = session.completed()) {
            auto it = waiters.find(done->id);
            if (it == waiters.end()) {
                if (unclaimed) unclaimed(std::move(*done));
                continue;
            }
            it->second->result = std::move(done->reply);
            it->second->signal->cancel();
            waiters.erase(it);
        }
    }

    void fail(const std::string& why) {
        if (stopped) return;  // the owner (and its session) may be gone
        if (lost.empty()) lost = why;
        session.link_lost(make_error(Errc::io_error, why));
        deliver();
    }

    // Writes what is queued, then sleeps until the session's deadline or a kick.
    asio::awaitable<void> drive(std::shared_ptr<Impl> self) {
        (void)self;
        while (!stopped) {
            while (!stopped && lost.empty()) {
                auto bytes = session.transmit(Clock::now());
                if (!bytes) break;
                auto w = co_await stream->write(*bytes, kWriteTimeout);
                if (stopped) co_return;
                if (!w) {
                    fail(w.error().message);
                    break;
                }
                if (activity) activity();
            }
            deliver();
            if (stopped) break;
            const auto dl = session.deadline();
            wake.expires_at(dl && lost.empty() ? *dl : Clock::now() + std::chrono::hours(1));
            co_await wake.async_wait(use_nothrow);
            if (stopped) break;
            session.tick(Clock::now());
            deliver();
        }
    }

    asio::awaitable<void> read(std::shared_ptr<Impl> self) {
        (void)self;
        std::array<std::byte, 1024> buf{};
        while (!stopped) {
            auto n = co_await stream->read_some(buf, kReadSlice);
            if (stopped) break;
            if (!n) {
                if (n.error().code == Errc::timeout) continue;
                fail(n.error().message);  // the port is gone: every waiter learns it now
                wake.cancel();
                break;
            }
            if (activity) activity();
            session.receive(ByteView(buf.data(), *n), Clock::now());
            deliver();
            wake.cancel();  // a reply may have freed the line for the next request
        }
    }
};

Pump::Pump(asio::any_io_executor ex, std::unique_ptr<Stream> stream, session::Session& session, Log log)
    : impl_(std::make_shared<Impl>(ex, std::move(stream), session, std::move(log))) {
    asio::co_spawn(ex, impl_->drive(impl_), asio::detached);
    asio::co_spawn(ex, impl_->read(impl_), asio::detached);
}

Pump::~Pump() {
    impl_->stopped = true;
    // Waiters are gone with their owners; the session may be destroyed right after us.
    for (auto& [id, w] : impl_->waiters) w->signal->cancel();  // each wait() ends with "port closed"
    impl_->waiters.clear();
    impl_->unclaimed = nullptr;
    impl_->activity = nullptr;
    impl_->log = nullptr;
    impl_->wake.cancel();
    impl_->stream->close();
}

asio::awaitable<Result<Bytes>> Pump::wait(session::RequestId id) {
    auto impl = impl_;
    if (!impl->lost.empty()) {
        impl->session.cancel(id);
        co_return make_error(Errc::io_error, impl->lost);
    }
    asio::steady_timer signal(impl->ex, Clock::time_point::max());
    Impl::Waiter waiter{&signal, std::nullopt};
    impl->waiters[id] = &waiter;
    impl->wake.cancel();
    co_await signal.async_wait(use_nothrow);
    if (!waiter.result) {
        // Cancelled from outside (the pump is going away) without a completion.
        impl->waiters.erase(id);
        co_return make_error(Errc::io_error, impl->stream->name() + ": port closed");
    }
    co_return std::move(*waiter.result);
}

void Pump::kick() { impl_->wake.cancel(); }
void Pump::on_unclaimed(Unclaimed f) { impl_->unclaimed = std::move(f); }
void Pump::on_activity(std::function<void()> f) { impl_->activity = std::move(f); }
Stream& Pump::stream() { return *impl_->stream; }
const std::string& Pump::name() const { return impl_->stream->name(); }
const std::string& Pump::lost() const { return impl_->lost; }

}  // namespace rig::io
