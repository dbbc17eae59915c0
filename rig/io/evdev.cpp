#include "rig/io/evdev.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <libevdev/libevdev.h>
#include <unistd.h>

namespace rig::io {

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

class Evdev final : public EvdevInput {
public:
    Evdev(asio::any_io_executor ex, int fd, libevdev* dev, std::string path)
        : sd_(ex, fd), dev_(dev), path_(std::move(path)), name_(libevdev_get_name(dev) ? libevdev_get_name(dev) : "") {}
    ~Evdev() override { close(); }

    asio::awaitable<Result<std::vector<InputEvent>>> read(std::chrono::milliseconds timeout) override {
        std::vector<InputEvent> out;
        if (!dev_) co_return make_error(Errc::io_error, fmt::format("evdev:{}: closed", path_));
        // libevdev may hold events read before (a resync): take them without waiting.
        if (libevdev_has_event_pending(dev_) == 0) {
            asio::steady_timer timer(sd_.get_executor(), timeout);
            using namespace boost::asio::experimental::awaitable_operators;
            auto raced = co_await (sd_.async_wait(asio::posix::stream_descriptor::wait_read, use_nothrow) || timer.async_wait(use_nothrow));
            if (raced.index() == 1) co_return out;
            if (auto [ec] = std::get<0>(raced); ec)
                co_return make_error(Errc::io_error, fmt::format("evdev:{}: {}", path_, ec.message()));
        }
        unsigned flags = LIBEVDEV_READ_FLAG_NORMAL;
        for (;;) {
            input_event ev{};
            const int rc = libevdev_next_event(dev_, flags, &ev);
            if (rc == -EAGAIN) {
                if (flags == LIBEVDEV_READ_FLAG_SYNC) {  // resynchronised: back to normal reads
                    flags = LIBEVDEV_READ_FLAG_NORMAL;
                    continue;
                }
                break;
            }
            if (rc < 0)
                co_return make_error(Errc::io_error, fmt::format("evdev:{}: scanner '{}' lost: {}", path_, name_, std::strerror(-rc)));
            if (rc == LIBEVDEV_READ_STATUS_SYNC && flags == LIBEVDEV_READ_FLAG_NORMAL) {
                flags = LIBEVDEV_READ_FLAG_SYNC;  // ev is the SYN_DROPPED; the resync follows
            }
            out.push_back({ev.type, ev.code, ev.value});
        }
        co_return out;
    }

    const std::string& name() const override { return name_; }

    void close() override {
        if (!dev_) return;
        libevdev_grab(dev_, LIBEVDEV_UNGRAB);
        libevdev_free(dev_);
        dev_ = nullptr;
        boost::system::error_code ignored;
        sd_.close(ignored);
    }

private:
    asio::posix::stream_descriptor sd_;
    libevdev* dev_;
    std::string path_, name_;
};

}  // namespace

Result<std::unique_ptr<EvdevInput>> EvdevInput::open(asio::any_io_executor ex, const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        return make_error(e == ENOENT ? Errc::not_found : Errc::io_error,
                          fmt::format("evdev:{}: cannot open: {}{}", path, std::strerror(e), e == EACCES ? " (is rigd's user in group input?)" : ""));
    }
    libevdev* dev = nullptr;
    if (const int rc = libevdev_new_from_fd(fd, &dev); rc < 0) {
        ::close(fd);
        return make_error(Errc::io_error, fmt::format("evdev:{}: not an input device: {}", path, std::strerror(-rc)));
    }
    const std::string name = libevdev_get_name(dev) ? libevdev_get_name(dev) : "";
    auto fail = [&](std::string why) {
        libevdev_free(dev);
        ::close(fd);
        return make_error(Errc::io_error, fmt::format("evdev:{}: '{}' {}", path, name, why));
    };
    if (!libevdev_has_event_code(dev, EV_KEY, KEY_ENTER) || !libevdev_has_event_code(dev, EV_KEY, KEY_A))
        return fail("is no keyboard (no Enter or letter keys): not a barcode scanner");
    if (const int rc = libevdev_grab(dev, LIBEVDEV_GRAB); rc < 0)
        return fail(fmt::format("cannot be grabbed: {}{}", std::strerror(-rc), rc == -EBUSY ? " (another program holds it)" : ""));
    return std::unique_ptr<EvdevInput>(new Evdev(std::move(ex), fd, dev, path));
}

}  // namespace rig::io
