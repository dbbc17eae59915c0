#include "rig/devices/instrument_lock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace rig::devices {

using namespace std::chrono;

namespace {
constexpr milliseconds kAbortCheck{50};  // an abort ends a wait this soon
}

struct InstrumentLock::Waiter {
    std::string holder;
    asio::steady_timer* timer = nullptr;
    bool granted = false;
};

InstrumentLock::Lease& InstrumentLock::Lease::operator=(Lease&& o) noexcept {
    if (this != &o) {
        release();
        lock_ = std::exchange(o.lock_, nullptr);
        waited = o.waited;
    }
    return *this;
}

void InstrumentLock::Lease::release() {
    if (auto* l = std::exchange(lock_, nullptr)) l->release();
}

void InstrumentLock::release() {
    if (queue_.empty()) {
        held_ = false;
        holder_.clear();
        return;
    }
    // The turn passes straight to the first in line: nobody can overtake it.
    Waiter* next = queue_.front();
    queue_.pop_front();
    next->granted = true;
    holder_ = next->holder;
    next->timer->cancel();
}

asio::awaitable<Result<InstrumentLock::Lease>> InstrumentLock::acquire(std::string holder, milliseconds max_wait, const RunControl* control) {
    if (control && control->abort) co_return make_error(Errc::cancelled, "aborted: " + control->abort_reason);
    if (!held_) {
        held_ = true;
        holder_ = std::move(holder);
        co_return Lease(this);
    }
    const auto start = steady_clock::now();
    const auto until = start + max_wait;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    Waiter me{holder, &timer, false};
    queue_.push_back(&me);
    // On every way out (timeout, abort, the coroutine cancelled or destroyed) the place in the
    // line is given up, and a turn granted but never taken is passed on.
    struct Leave {
        InstrumentLock& lock;
        Waiter& me;
        bool taken = false;
        ~Leave() {
            if (me.granted && !taken) lock.release();
            else if (!me.granted) lock.queue_.remove(&me);
        }
    } leave{*this, me};
    const std::string ahead = holder_;
    while (!me.granted) {
        const auto now = steady_clock::now();
        if (control && control->abort) co_return make_error(Errc::cancelled, "aborted: " + control->abort_reason);
        if (now >= until)
            co_return make_error(Errc::timeout, fmt::format("{}: busy: waited {:.1f} s for it behind {} ({} in line)", who_,
                                                            duration<double>(now - start).count(), holder_.empty() ? ahead : holder_,
                                                            queue_.size()));
        timer.expires_after(control ? std::min<steady_clock::duration>(kAbortCheck, until - now) : until - now);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    leave.taken = true;
    Lease lease(this);
    lease.waited = steady_clock::now() - start;
    co_return lease;
}

}  // namespace rig::devices
