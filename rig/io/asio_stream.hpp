// The one Stream over an Asio I/O object (serial port, TCP socket, SocketCAN descriptor): each
// operation races its own timer. Private to rig/io: included by its .cpp files only, so Asio's
// I/O objects stay out of the headers the rest of rig includes.
#pragma once
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rig/io/stream.hpp"

namespace rig::io::detail {

using boost::system::error_code;
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Sockets get MSG_NOSIGNAL (a vanished peer must not SIGPIPE rigd); ttys take plain write.
inline ssize_t send_or_write(int fd, ByteView b) {
    const auto n = ::send(fd, b.data(), b.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0 || errno != ENOTSOCK) return n;
    return ::write(fd, b.data(), b.size());
}

template <class Io>
class AsioStream final : public Stream {
public:
    AsioStream(Io io, std::string name) : io_(std::move(io)), name_(std::move(name)), fd_(io_.native_handle()) {}
    ~AsioStream() override { close(); }

    // Each operation races its own timer with operator||: whichever finishes first cancels the
    // other through its per-operation cancellation slot, so a timer can never fire late and
    // cancel a later read (as a timer handler calling io_.cancel() could).
    asio::awaitable<Result<std::size_t>> read_some(std::span<std::byte> buffer, std::chrono::milliseconds timeout) override {
        if (!io_.is_open()) co_return make_error(Errc::io_error, fmt::format("{}: port is closed", name_));
        asio::steady_timer timer(io_.get_executor(), timeout);
        using namespace boost::asio::experimental::awaitable_operators;
        auto raced = co_await (io_.async_read_some(asio::buffer(buffer.data(), buffer.size()), use_nothrow) || timer.async_wait(use_nothrow));
        if (raced.index() == 1) co_return make_error(Errc::timeout, fmt::format("{}: no data within {} ms", name_, timeout.count()));
        auto [ec, n] = std::get<0>(raced);
        if (!ec) co_return n;
        co_return make_error(Errc::io_error, fmt::format("{}: read failed: {}", name_, ec.message()));
    }

    asio::awaitable<Result<void>> write(ByteView bytes, std::chrono::milliseconds timeout) override {
        if (!io_.is_open()) co_return make_error(Errc::io_error, fmt::format("{}: port is closed", name_));
        asio::steady_timer timer(io_.get_executor(), timeout);
        using namespace boost::asio::experimental::awaitable_operators;
        auto raced = co_await (asio::async_write(io_, asio::buffer(bytes.data(), bytes.size()), use_nothrow) || timer.async_wait(use_nothrow));
        if (raced.index() == 1) co_return make_error(Errc::timeout, fmt::format("{}: write blocked for {} ms", name_, timeout.count()));
        auto [ec, n] = std::get<0>(raced);
        (void)n;
        if (!ec) co_return Result<void>{};
        co_return make_error(Errc::io_error, fmt::format("{}: write failed: {}", name_, ec.message()));
    }

    bool write_from_any_thread(ByteView bytes) override {
        const int fd = fd_.load();
        if (fd < 0) return false;
        const auto n = send_or_write(fd, bytes);
        return n == static_cast<ssize_t>(bytes.size());
    }

    void close() override {
        fd_.store(-1);
        error_code ignored;
        if (io_.is_open()) io_.close(ignored);
    }
    const std::string& name() const override { return name_; }

private:
    Io io_;
    std::string name_;
    std::atomic<int> fd_;
};

}  // namespace rig::io::detail
