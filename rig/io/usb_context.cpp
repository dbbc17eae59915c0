#include "rig/io/usb_context.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <fmt/format.h>

namespace rig::io::usb {

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;

std::mutex g_mutex;
std::weak_ptr<Context> g_context;  // the process's one context while anything uses it
}  // namespace

std::string error_text(int e) { return fmt::format("{} ({})", libusb_error_name(e), libusb_strerror(static_cast<libusb_error>(e))); }

const char* status_text(libusb_transfer_status s) {
    switch (s) {
    case LIBUSB_TRANSFER_COMPLETED: return "completed";
    case LIBUSB_TRANSFER_ERROR: return "transfer error";
    case LIBUSB_TRANSFER_TIMED_OUT: return "timed out";
    case LIBUSB_TRANSFER_CANCELLED: return "cancelled";
    case LIBUSB_TRANSFER_STALL: return "endpoint stalled";
    case LIBUSB_TRANSFER_NO_DEVICE: return "device unplugged";
    case LIBUSB_TRANSFER_OVERFLOW: return "device sent more than asked";
    }
    return "unknown status";
}

// ---- worker thread: libusb's synchronous calls ----------------------------------------------

struct Context::Worker {
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::function<void()>> jobs;
    bool stop = false;
    std::thread thread{[this] { run(); }};

    void run() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return stop || !jobs.empty(); });
                if (jobs.empty()) return;
                job = std::move(jobs.front());
                jobs.pop_front();
            }
            job();
        }
    }
    void push(std::function<void()> job) {
        {
            std::lock_guard lock(m);
            jobs.push_back(std::move(job));
        }
        cv.notify_one();
    }
    ~Worker() {
        {
            std::lock_guard lock(m);
            stop = true;
        }
        cv.notify_one();
        thread.join();
    }
};

Context::Context() = default;

Result<std::shared_ptr<Context>> Context::get() {
    std::lock_guard lock(g_mutex);
    if (auto c = g_context.lock()) return c;
    std::shared_ptr<Context> c(new Context());
    if (auto r = c->start(); !r) return r.error();
    g_context = c;
    return c;
}

Result<void> Context::start() {
    if (int e = libusb_init(&ctx_); e != 0) {
        ctx_ = nullptr;
        return make_error(Errc::io_error, fmt::format("usb: cannot start libusb: {}", error_text(e)));
    }
    if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
        const int e = libusb_hotplug_register_callback(ctx_, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, LIBUSB_HOTPLUG_NO_FLAGS,
                                                       LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, &Context::on_hotplug, this,
                                                       &hotplug_handle_);
        if (e != LIBUSB_SUCCESS) hotplug_handle_ = 0;  // transfers still report NO_DEVICE on unplug
    }
    worker_ = std::make_unique<Worker>();
    events_ = std::thread([this] {
        timeval tv{0, 200000};  // libusb_interrupt_event_handler() wakes it sooner
        while (!stop_.load()) libusb_handle_events_timeout_completed(ctx_, &tv, nullptr);
    });
    return {};
}

Context::~Context() {
    worker_.reset();
    if (hotplug_handle_) libusb_hotplug_deregister_callback(ctx_, hotplug_handle_);
    stop_.store(1);
    if (ctx_) libusb_interrupt_event_handler(ctx_);
    if (events_.joinable()) events_.join();
    if (ctx_) libusb_exit(ctx_);
}

int LIBUSB_CALL Context::on_hotplug(libusb_context*, libusb_device* dev, libusb_hotplug_event event, void* user) {
    auto* self = static_cast<Context*>(user);
    libusb_device_descriptor d{};
    libusb_get_device_descriptor(dev, &d);  // cached by libusb: no I/O
    HotplugEvent e{d.idVendor, d.idProduct, libusb_get_bus_number(dev), libusb_get_device_address(dev), event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED, dev};
    // The device pointer is only compared on the io thread (an open handle keeps its device).
    std::weak_ptr<Context> weak = self->weak_from_this();
    std::lock_guard lock(self->listeners_mutex_);
    for (const auto& l : self->listeners_)
        asio::post(l.ex, [weak, id = l.id, e] {
            if (auto c = weak.lock()) c->dispatch(id, e);
        });
    return 0;  // stay registered
}

void Context::dispatch(int id, const HotplugEvent& e) {
    std::function<void(const HotplugEvent&)> f;
    {
        std::lock_guard lock(listeners_mutex_);
        auto it = std::find_if(listeners_.begin(), listeners_.end(), [id](const Listener& l) { return l.id == id; });
        if (it == listeners_.end()) return;  // unsubscribed meanwhile
        f = it->f;
    }
    f(e);
}

int Context::subscribe(asio::any_io_executor ex, std::function<void(const HotplugEvent&)> listener) {
    std::lock_guard lock(listeners_mutex_);
    listeners_.push_back({next_listener_, std::move(ex), std::move(listener)});
    return next_listener_++;
}

void Context::unsubscribe(int id) {
    std::lock_guard lock(listeners_mutex_);
    std::erase_if(listeners_, [id](const Listener& l) { return l.id == id; });
}

asio::awaitable<Result<void>> Context::blocking(asio::any_io_executor ex, std::function<Result<void>()> fn) {
    struct State {
        std::optional<Result<void>> result;
        asio::steady_timer* signal = nullptr;
    };
    auto state = std::make_shared<State>();
    asio::steady_timer signal(ex, Clock::time_point::max());
    state->signal = &signal;
    // This frame keeps the context alive until the job is back. The job holds no reference to
    // it: were the worker to drop the last one, ~Context would join the worker from itself.
    const auto keep = shared_from_this();
    worker_->push([ex, state, fn = std::move(fn)]() mutable {
        auto r = fn();
        // The job (and what it holds) is released on the io thread, never here.
        asio::post(ex, [state, r = std::move(r), fn = std::move(fn)]() mutable {
            state->result = std::move(r);
            if (state->signal) state->signal->cancel();
        });
    });
    while (!state->result) co_await signal.async_wait(use_nothrow);
    state->signal = nullptr;
    co_return std::move(*state->result);
}

// ---- handle ------------------------------------------------------------------------------------

Handle::Handle(std::shared_ptr<Context> ctx, asio::any_io_executor ex, libusb_device_handle* h, int iface)
    : ctx_(std::move(ctx)), ex_(std::move(ex)), h_(h), iface_(iface) {}

Handle::~Handle() {
    libusb_release_interface(h_, iface_);  // fails harmlessly on an unplugged device
    libusb_close(h_);
}

// ---- transfers ---------------------------------------------------------------------------------

namespace {
std::shared_ptr<Transfer> make_shared_transfer(auto* raw) { return std::shared_ptr<Transfer>(raw); }
}  // namespace

std::shared_ptr<Transfer> Transfer::bulk(std::shared_ptr<Handle> h, std::uint8_t ep, Bytes data, std::chrono::milliseconds timeout) {
    auto t = make_shared_transfer(new Transfer);
    t->handle_ = std::move(h);
    t->kind_ = Kind::bulk;
    t->endpoint_ = ep;
    t->in_ = ep & LIBUSB_ENDPOINT_IN;
    t->buffer_.resize(data.size());
    if (!t->in_) std::transform(data.begin(), data.end(), t->buffer_.begin(), [](std::byte b) { return std::to_integer<unsigned char>(b); });
    t->t_ = libusb_alloc_transfer(0);
    libusb_fill_bulk_transfer(t->t_, t->handle_->raw(), ep, t->buffer_.data(), static_cast<int>(t->buffer_.size()), &Transfer::on_complete, nullptr,
                              static_cast<unsigned>(timeout.count()));
    return t;
}

std::shared_ptr<Transfer> Transfer::interrupt_in(std::shared_ptr<Handle> h, std::uint8_t ep, std::size_t length, std::chrono::milliseconds timeout) {
    auto t = make_shared_transfer(new Transfer);
    t->handle_ = std::move(h);
    t->kind_ = Kind::interrupt;
    t->endpoint_ = ep;
    t->in_ = true;
    t->buffer_.resize(length);
    t->t_ = libusb_alloc_transfer(0);
    libusb_fill_interrupt_transfer(t->t_, t->handle_->raw(), ep, t->buffer_.data(), static_cast<int>(length), &Transfer::on_complete, nullptr,
                                   static_cast<unsigned>(timeout.count()));
    return t;
}

std::shared_ptr<Transfer> Transfer::control(std::shared_ptr<Handle> h, std::uint8_t request_type, std::uint8_t request, std::uint16_t value,
                                            std::uint16_t index, std::uint16_t length, std::chrono::milliseconds timeout) {
    auto t = make_shared_transfer(new Transfer);
    t->handle_ = std::move(h);
    t->kind_ = Kind::control;
    t->in_ = request_type & LIBUSB_ENDPOINT_IN;
    t->buffer_.assign(LIBUSB_CONTROL_SETUP_SIZE + length, 0);
    libusb_fill_control_setup(t->buffer_.data(), request_type, request, value, index, length);
    t->t_ = libusb_alloc_transfer(0);
    libusb_fill_control_transfer(t->t_, t->handle_->raw(), t->buffer_.data(), &Transfer::on_complete, nullptr, static_cast<unsigned>(timeout.count()));
    return t;
}

Transfer::~Transfer() {
    if (t_) libusb_free_transfer(t_);
}

bool Transfer::submit() {
    auto* holder = new std::shared_ptr<Transfer>(shared_from_this());  // alive while in flight
    t_->user_data = holder;
    if (const int e = libusb_submit_transfer(t_); e != 0) {
        delete holder;
        why_ = e == LIBUSB_ERROR_NO_DEVICE ? "device unplugged" : error_text(e);
        return false;
    }
    submitted_ = true;
    work_ = asio::prefer(handle_->executor(), asio::execution::outstanding_work.tracked);
    return true;
}

void LIBUSB_CALL Transfer::on_complete(libusb_transfer* t) {
    auto* holder = static_cast<std::shared_ptr<Transfer>*>(t->user_data);
    std::shared_ptr<Transfer> self = std::move(*holder);
    delete holder;
    Done d;
    d.status = t->status;
    if (self->in_ && t->actual_length > 0) {
        const auto* data = self->kind_ == Kind::control ? libusb_control_transfer_get_data(t) : t->buffer;
        d.data.resize(static_cast<std::size_t>(t->actual_length));
        std::transform(data, data + t->actual_length, d.data.begin(), [](unsigned char c) { return std::byte{c}; });
    }
    // The only reference moves to the io thread: the handle is never closed here, where
    // libusb holds its event lock.
    const auto ex = self->handle_->executor();
    asio::post(ex, [self = std::move(self), d = std::move(d)]() mutable {
        self->done_ = std::move(d);
        self->work_.reset();
        self->wake();
    });
}

asio::awaitable<bool> Transfer::wait(Clock::time_point deadline) {
    if (done_) co_return true;
    asio::steady_timer timer(handle_->executor(), deadline);
    waiters_.push_back(&timer);
    co_await timer.async_wait(use_nothrow);
    std::erase(waiters_, static_cast<void*>(&timer));
    co_return done_.has_value();
}

void Transfer::wake() {
    for (void* w : waiters_) static_cast<asio::steady_timer*>(w)->cancel();
}

void Transfer::cancel() {
    if (submitted_ && !done_) libusb_cancel_transfer(t_);
}

}  // namespace rig::io::usb
