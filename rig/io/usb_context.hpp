// libusb on rig's io_context, private to rig/io (its .cpp files include it; nothing else does,
// so libusb.h and Asio's timers stay out of rig's widely included headers).
//
// One libusb context per process while any USB port is open. One event thread runs libusb's
// event loop; every transfer is asynchronous and its completion is posted to the io thread, so
// no libusb call blocks the io thread. Calls libusb only offers synchronously (open, claim,
// clear halt, descriptor reads) run on one worker thread, and the awaiting coroutine resumes
// on the io thread. Hotplug arrivals and departures are posted to the io thread too.
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <libusb.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"

namespace rig::io::usb {

namespace asio = boost::asio;

struct HotplugEvent {
    std::uint16_t vid = 0, pid = 0;
    std::uint8_t bus = 0, address = 0;
    bool arrived = false;
    libusb_device* device = nullptr;  // valid (referenced) while listeners run
};

class Context : public std::enable_shared_from_this<Context> {
public:
    // The process's context, created on first use; it ends when its last user lets go. It
    // serves any number of io_contexts: each user names its own executor.
    static Result<std::shared_ptr<Context>> get();
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    libusb_context* raw() const { return ctx_; }

    // Runs `fn` on the worker thread; the caller resumes on `ex` with its result.
    asio::awaitable<Result<void>> blocking(asio::any_io_executor ex, std::function<Result<void>()> fn);

    // Listeners run on their executor's thread. Returns an id for unsubscribe().
    int subscribe(asio::any_io_executor ex, std::function<void(const HotplugEvent&)> listener);
    void unsubscribe(int id);
    bool hotplug() const { return hotplug_handle_ != 0; }

private:
    Context();
    Result<void> start();
    static int on_hotplug(libusb_context*, libusb_device*, libusb_hotplug_event, void* self);
    void dispatch(int id, const HotplugEvent& e);

    libusb_context* ctx_ = nullptr;
    libusb_hotplug_callback_handle hotplug_handle_ = 0;
    std::atomic<int> stop_{0};
    std::thread events_;
    struct Worker;
    std::unique_ptr<Worker> worker_;
    struct Listener {
        int id;
        asio::any_io_executor ex;
        std::function<void(const HotplugEvent&)> f;
    };
    std::mutex listeners_mutex_;  // subscribed on io threads, read on the event thread
    std::vector<Listener> listeners_;
    int next_listener_ = 1;
};

// An open device with one claimed interface: released and closed when its last transfer and
// its owner let go (a transfer in flight holds it). Its transfers complete on `ex`.
class Handle {
public:
    Handle(std::shared_ptr<Context> ctx, asio::any_io_executor ex, libusb_device_handle* h, int interface_number);
    ~Handle();
    libusb_device_handle* raw() const { return h_; }
    libusb_device* device() const { return libusb_get_device(h_); }
    int interface_number() const { return iface_; }
    Context& context() const { return *ctx_; }
    const asio::any_io_executor& executor() const { return ex_; }

private:
    std::shared_ptr<Context> ctx_;
    asio::any_io_executor ex_;
    libusb_device_handle* h_;
    int iface_;
};

// One asynchronous transfer. Its completion lands on the io thread; the owner waits for it
// with wait(), bounded, or cancels it. The io_context must outlive every transfer in flight:
// a cancelled transfer's completion still arrives there (and releases the device there).
class Transfer : public std::enable_shared_from_this<Transfer> {
public:
    enum class Kind { bulk, interrupt, control };
    struct Done {
        libusb_transfer_status status = LIBUSB_TRANSFER_ERROR;
        Bytes data;  // IN: what arrived (control: the data stage without the setup packet)
    };

    // `timeout` 0: no libusb timeout (cancel() ends it).
    static std::shared_ptr<Transfer> bulk(std::shared_ptr<Handle> h, std::uint8_t endpoint, Bytes out_or_in_size, std::chrono::milliseconds timeout);
    static std::shared_ptr<Transfer> interrupt_in(std::shared_ptr<Handle> h, std::uint8_t endpoint, std::size_t length, std::chrono::milliseconds timeout);
    static std::shared_ptr<Transfer> control(std::shared_ptr<Handle> h, std::uint8_t request_type, std::uint8_t request, std::uint16_t value,
                                             std::uint16_t index, std::uint16_t length, std::chrono::milliseconds timeout);
    ~Transfer();

    // Submits; false (with why()) when libusb refuses, e.g. the device is gone.
    bool submit();
    // Waits until done or until `deadline` or until wake() is called; true once done.
    asio::awaitable<bool> wait(std::chrono::steady_clock::time_point deadline);
    void wake();
    // Asks libusb to end it; the completion (LIBUSB_TRANSFER_CANCELLED) still arrives.
    void cancel();

    bool done() const { return done_.has_value(); }
    const Done& result() const { return *done_; }
    const std::string& why() const { return why_; }
    std::uint8_t endpoint() const { return endpoint_; }

private:
    Transfer() = default;
    static void LIBUSB_CALL on_complete(libusb_transfer* t);
    std::shared_ptr<Handle> handle_;
    libusb_transfer* t_ = nullptr;
    std::vector<unsigned char> buffer_;
    Kind kind_ = Kind::bulk;
    std::uint8_t endpoint_ = 0;
    bool in_ = false, submitted_ = false;
    std::optional<Done> done_;
    std::vector<void*> waiters_;  // steady_timer*, cancelled on completion or wake()
    // Outstanding work while in flight: io_context::run() does not return before a submitted
    // (or cancelled) transfer's completion has been delivered.
    std::optional<asio::any_io_executor> work_;
    std::string why_;
};

// "LIBUSB_ERROR_ACCESS (Access denied (insufficient permissions))"
std::string error_text(int libusb_error);
const char* status_text(libusb_transfer_status s);

}  // namespace rig::io::usb
