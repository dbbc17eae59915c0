// One instrument, several nests (TestStand's per-use lock): a nest waits its turn for a shared
// RF meter or supply, first come first served, for a bounded time. Everything runs on rigd's
// one io thread, so the lock is a queue, not a mutex.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <list>
#include <utility>
#include <string>

#include "rig/devices/control.hpp"

namespace rig::devices {

namespace asio = boost::asio;

class InstrumentLock {
public:
    // Held while it lives: the instrument is the holder's; moving it moves the turn.
    class Lease {
    public:
        Lease() = default;
        Lease(Lease&& o) noexcept : waited(o.waited), lock_(std::exchange(o.lock_, nullptr)) {}
        Lease& operator=(Lease&& o) noexcept;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { release(); }
        void release();
        std::chrono::steady_clock::duration waited{};  // how long the turn took to come

    private:
        friend class InstrumentLock;
        explicit Lease(InstrumentLock* lock) : lock_(lock) {}
        InstrumentLock* lock_ = nullptr;
    };

    explicit InstrumentLock(std::string who) : who_(std::move(who)) {}
    InstrumentLock(const InstrumentLock&) = delete;
    InstrumentLock& operator=(const InstrumentLock&) = delete;

    // Waits for the instrument on behalf of `holder` (a station id), at most `max_wait`. With
    // `control`, an abort ends the wait (a step's use); without, nothing but the bound does
    // (teardown must reach the instrument). The error names the instrument and who holds it.
    asio::awaitable<Result<Lease>> acquire(std::string holder, std::chrono::milliseconds max_wait, const RunControl* control);

    const std::string& holder() const { return holder_; }  // "" when free
    std::size_t waiting() const { return queue_.size(); }

private:
    struct Waiter;
    void release();
    std::string who_;
    bool held_ = false;
    std::string holder_;
    std::list<Waiter*> queue_;
};

}  // namespace rig::devices
