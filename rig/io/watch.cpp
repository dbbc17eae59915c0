#include "rig/io/watch.hpp"

#include <array>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>
#include <optional>
#include <sys/inotify.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace rig::io {

namespace asio = boost::asio;

namespace {

// One inotify instance per io_context, opened at the first wait and closed when the context
// goes. Closing an inotify descriptor waits for an SRCU grace period in the kernel (50-60 ms
// measured under load with `perf trace`), and a nest waits for its flight controller every
// unit: one descriptor per wait stalled the io thread of a 64-nest rigd for that long several
// times a second. A watch is added per wait and removed after it; removal is not waited for.
class DirWatchService : public asio::execution_context::service {
public:
    static inline asio::execution_context::id id;
    explicit DirWatchService(asio::execution_context& ctx) : service(ctx) {}
    ~DirWatchService() override {
        if (!events_ && fd_ >= 0) ::close(fd_);
    }

    // A waiter on `dir`, woken (its timer cancelled) by any event there; deregistered when
    // destroyed. Empty without inotify.
    class Registration {
    public:
        Registration(DirWatchService& s, int wd, asio::steady_timer& t) : s_(&s), wd_(wd), timer_(&t) {}
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;
        ~Registration() { s_->leave(wd_, timer_); }

    private:
        DirWatchService* s_;
        int wd_;
        asio::steady_timer* timer_;
    };

    std::optional<Registration> join(const asio::any_io_executor& ex, const std::filesystem::path& dir, asio::steady_timer& timer) {
        if (dir.empty()) return std::nullopt;
        if (fd_ < 0) fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd_ < 0) return std::nullopt;
        if (!events_) events_.emplace(ex, fd_);  // owns fd_ from here
        const int wd = ::inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_ATTRIB);
        if (wd < 0) return std::nullopt;
        waiters_[wd].push_back(&timer);
        read();
        return std::optional<Registration>(std::in_place, *this, wd, timer);
    }

private:
    void shutdown() override {
        waiters_.clear();
        events_.reset();
        fd_ = -1;
    }

    void leave(int wd, asio::steady_timer* timer) {
        auto it = waiters_.find(wd);
        if (it == waiters_.end()) return;
        std::erase(it->second, timer);
        if (!it->second.empty()) return;
        waiters_.erase(it);
        ::inotify_rm_watch(fd_, wd);
        // Nothing pending while nobody waits, so the io_context can run out of work.
        if (waiters_.empty() && events_) events_->cancel();
    }

    void read() {
        if (reading_ || !events_) return;
        reading_ = true;
        events_->async_read_some(asio::buffer(buf_), [this](const boost::system::error_code& ec, std::size_t n) {
            reading_ = false;
            if (!ec) wake(n);
            if (!waiters_.empty() && (!ec || ec == asio::error::operation_aborted)) read();
        });
    }

    void wake(std::size_t n) {
        for (std::size_t off = 0; off + sizeof(inotify_event) <= n;) {
            inotify_event e;
            std::memcpy(&e, buf_.data() + off, sizeof e);
            off += sizeof e + e.len;
            if (e.mask & IN_Q_OVERFLOW) {
                for (auto& [wd, timers] : waiters_)
                    for (auto* t : timers) t->cancel();
            } else if (auto it = waiters_.find(e.wd); it != waiters_.end()) {
                for (auto* t : it->second) t->cancel();
            }
        }
    }

    int fd_ = -1;
    std::optional<asio::posix::stream_descriptor> events_;
    bool reading_ = false;
    std::unordered_map<int, std::vector<asio::steady_timer*>> waiters_;  // by watch descriptor
    std::array<char, 4096> buf_{};
};

}  // namespace

asio::awaitable<void> path_changed(asio::any_io_executor ex, const std::filesystem::path& path, std::chrono::milliseconds timeout) {
    asio::steady_timer timer(ex, timeout);
    boost::system::error_code ec;
    std::error_code fec;
    std::filesystem::path dir = path.parent_path();
    while (!dir.empty() && !std::filesystem::is_directory(dir, fec) && dir != dir.root_path()) dir = dir.parent_path();
    auto& service = asio::use_service<DirWatchService>(asio::query(ex, asio::execution::context));
    const auto watching = service.join(ex, dir, timer);
    // It may have appeared between the caller's failed open and the watch.
    if (watching && std::filesystem::exists(path, fec)) co_return;
    // An event in the directory cancels the timer; without inotify it runs out.
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace rig::io
