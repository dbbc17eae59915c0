#include "rig/io/watch.hpp"

#include <array>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sys/inotify.h>
#include <unistd.h>

namespace rig::io {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

asio::awaitable<void> path_changed(asio::any_io_executor ex, const std::filesystem::path& path, std::chrono::milliseconds timeout) {
    asio::steady_timer timer(ex, timeout);
    boost::system::error_code ec;
    std::error_code fec;
    std::filesystem::path dir = path.parent_path();
    while (!dir.empty() && !std::filesystem::is_directory(dir, fec) && dir != dir.root_path()) dir = dir.parent_path();
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0 || dir.empty() || ::inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_ATTRIB) < 0) {
        if (fd >= 0) ::close(fd);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));  // no inotify: wait out the timeout
        co_return;
    }
    asio::posix::stream_descriptor events(ex, fd);  // owns fd
    // It may have appeared between the caller's failed open and the watch.
    if (std::filesystem::exists(path, fec)) co_return;
    std::array<char, 4096> buf{};
    co_await (events.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec)) ||
              timer.async_wait(asio::redirect_error(asio::use_awaitable, ec)));
}

}  // namespace rig::io
