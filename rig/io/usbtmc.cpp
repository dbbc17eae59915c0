// usbtmc: ports (rig/io/usb.hpp): a USBTMC instrument as a Stream over libusb.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <fmt/format.h>

#include "protocols/usbtmc/usbtmc.hpp"
#include "rig/io/usb.hpp"
#include "rig/io/usb_context.hpp"
#include "rig/io/usb_find.hpp"

namespace rig::io {
namespace {

using namespace std::chrono;
using Clock = steady_clock;
using usb::Transfer;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

constexpr std::uint32_t kMaxReply = 4096;           // asked per REQUEST_DEV_DEP_MSG_IN
constexpr milliseconds kControlTimeout{1000};       // each class request
constexpr milliseconds kRequestTimeout{1000};       // the REQUEST_DEV_DEP_MSG_IN message itself
constexpr milliseconds kDrainTimeout{100};          // reading out an aborted reply
constexpr milliseconds kPollInterval{20};           // CHECK_*_STATUS while PENDING
constexpr int kMaxPolls = 50;                       // 1 s of PENDING at most

// A query is a program message with '?' in a header: outside quoted strings.
bool is_query(ByteView bytes) {
    char quote = 0;
    for (auto b : bytes) {
        const char c = static_cast<char>(b);
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '?') {
            return true;
        }
    }
    return false;
}

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

class UsbtmcStream final : public UsbtmcPort {
public:
    struct Impl;
    explicit UsbtmcStream(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
    ~UsbtmcStream() override { close(); }
    asio::awaitable<Result<std::size_t>> read_some(std::span<std::byte> buffer, milliseconds timeout) override;
    asio::awaitable<Result<void>> write(ByteView bytes, milliseconds timeout) override;
    asio::awaitable<Result<std::uint8_t>> read_status_byte(milliseconds timeout) override;
    void close() override;
    bool write_from_any_thread(ByteView) override { return false; }  // no descriptor to write to
    const std::string& name() const override;

private:
    std::shared_ptr<Impl> impl_;
};

struct UsbtmcStream::Impl : std::enable_shared_from_this<Impl> {
    asio::any_io_executor ex;
    std::shared_ptr<usb::Context> ctx;
    std::shared_ptr<usb::Handle> handle;  // reset on close; transfers in flight keep their own
    usb::UsbtmcInterface itf;
    libusb_device* device = nullptr;      // identity for hotplug departures
    std::string name;
    int listener = 0;

    std::uint8_t tag = 0;
    std::uint8_t status_tag = 1;          // READ_STATUS_BYTE's own bTag, 2..127
    int expected = 0;                     // queries written whose reply has not ended (EOM)
    Bytes buffered;                       // reply bytes not yet read
    struct InRead {
        std::uint8_t tag;
        std::shared_ptr<Transfer> transfer;
    };
    std::optional<InRead> in;
    bool busy = false;                    // a message or a class request sequence is on the bus
    bool closed = false;
    std::string lost;
    std::vector<asio::steady_timer*> waiters;

    Error fail(Errc code, const std::string& why) { return make_error(code, fmt::format("{}: {}", name, why)); }
    Error gone() { return closed ? fail(Errc::io_error, "port is closed") : make_error(Errc::io_error, lost); }
    bool usable() const { return !closed && lost.empty(); }

    void notify() {
        for (auto* w : waiters) w->cancel();
        if (in) in->transfer->wake();
    }
    void unplugged() {
        if (!lost.empty() || closed) return;
        lost = fmt::format("{}: device unplugged", name);
        if (in) in->transfer->cancel();
        notify();
    }
    // Until notify() or `deadline`.
    asio::awaitable<void> wait_change(Clock::time_point deadline) {
        asio::steady_timer t(ex, deadline);
        waiters.push_back(&t);
        co_await t.async_wait(use_nothrow);
        std::erase(waiters, &t);
    }
    asio::awaitable<bool> acquire(Clock::time_point deadline) {
        while (busy && usable()) {
            if (Clock::now() >= deadline) co_return false;
            co_await wait_change(deadline);
        }
        busy = true;
        co_return true;
    }
    void release() {
        busy = false;
        notify();
    }

    // A transfer to its end (libusb's own timeout bounds it); its status as an error.
    asio::awaitable<Result<Transfer::Done>> run(std::shared_ptr<Transfer> t, const char* what) {
        if (!t->submit()) {
            if (t->why() == "device unplugged") unplugged();
            co_return fail(Errc::io_error, fmt::format("{}: {}", what, t->why()));
        }
        while (!t->done()) co_await t->wait(Clock::time_point::max());
        const auto& d = t->result();
        if (d.status == LIBUSB_TRANSFER_COMPLETED) co_return d;
        if (d.status == LIBUSB_TRANSFER_NO_DEVICE) unplugged();
        co_return fail(d.status == LIBUSB_TRANSFER_TIMED_OUT ? Errc::timeout : Errc::io_error, fmt::format("{}: {}", what, usb::status_text(d.status)));
    }

    asio::awaitable<Result<usbtmc::ControlReply>> control(const usbtmc::ControlSetup& s, const char* what) {
        auto t = Transfer::control(handle, s.request_type, s.request, s.value, s.index, s.length, kControlTimeout);
        auto d = co_await run(t, what);
        if (!d) co_return d.error();
        auto r = usbtmc::parse_control_reply(d->data, s.length, what);
        if (!r) co_return fail(Errc::protocol_error, r.error().message);
        co_return *r;
    }

    asio::awaitable<Result<void>> clear_halt(std::uint8_t endpoint) {
        // A named std::function, not a lambda temporary inside co_await: g++ 12 frees such a
        // temporary twice.
        std::function<Result<void>()> job = [h = handle, endpoint, n = name]() -> Result<void> {
            if (const int e = libusb_clear_halt(h->raw(), endpoint); e != 0)
                return make_error(Errc::io_error, fmt::format("{}: cannot clear the halt of endpoint 0x{:02x}: {}", n, endpoint, usb::error_text(e)));
            return {};
        };
        auto r = co_await ctx->blocking(ex, std::move(job));
        co_return r;
    }

    // Reads the Bulk-IN FIFO out (an aborted or stale reply) until a short packet or silence.
    asio::awaitable<void> drain_in() {
        for (int i = 0; i < kMaxPolls && usable(); ++i) {
            auto t = Transfer::bulk(handle, itf.bulk_in, Bytes(itf.bulk_in_packet), kDrainTimeout);
            auto d = co_await run(t, "draining Bulk-IN");
            if (!d || d->data.size() < itf.bulk_in_packet) co_return;
        }
    }

    asio::awaitable<Result<void>> initiate_clear();
    asio::awaitable<Result<void>> abort_in();
    asio::awaitable<Result<void>> abort_out(std::uint8_t tag);
    asio::awaitable<Result<void>> send(const Bytes& message, milliseconds timeout, std::uint8_t tag);
    asio::awaitable<Result<void>> request_reply();
    Result<void> take_reply();
};

// INITIATE_CLEAR, then CHECK_CLEAR_STATUS while PENDING (reading the Bulk-IN FIFO out when it
// holds data), then CLEAR_FEATURE(ENDPOINT_HALT) on Bulk-OUT, as USBTMC 4.2.1.6-7 ask.
asio::awaitable<Result<void>> UsbtmcStream::Impl::initiate_clear() {
    auto r = co_await control(usbtmc::initiate_clear(static_cast<std::uint16_t>(itf.interface_number)), "INITIATE_CLEAR");
    if (!r) co_return r.error();
    if (r->status != usbtmc::Status::success) co_return fail(Errc::protocol_error, fmt::format("INITIATE_CLEAR answered {}", usbtmc::to_string(r->status)));
    for (int i = 0;; ++i) {
        auto c = co_await control(usbtmc::check_clear_status(static_cast<std::uint16_t>(itf.interface_number)), "CHECK_CLEAR_STATUS");
        if (!c) co_return c.error();
        if (c->status == usbtmc::Status::success) break;
        if (c->status != usbtmc::Status::pending || i >= kMaxPolls)
            co_return fail(Errc::protocol_error, fmt::format("CHECK_CLEAR_STATUS answered {}", usbtmc::to_string(c->status)));
        if (c->second & 0x01) co_await drain_in();
        asio::steady_timer pause(ex, kPollInterval);
        co_await pause.async_wait(use_nothrow);
    }
    co_return co_await clear_halt(itf.bulk_out);
}

// The reply in flight is not wanted any more: cancel the host's transfer, then have the
// instrument drop it (INITIATE_ABORT_BULK_IN with its bTag, the FIFO read out, CHECK_ABORT_
// BULK_IN_STATUS until done). FAILED means nothing was in progress: the reply had not started.
asio::awaitable<Result<void>> UsbtmcStream::Impl::abort_in() {
    expected = 0;
    if (!in) co_return Result<void>{};
    auto [tag, transfer] = *in;
    in.reset();
    transfer->cancel();
    co_await transfer->wait(Clock::now() + kControlTimeout);
    if (!usable()) co_return gone();
    auto r = co_await control(usbtmc::initiate_abort_bulk_in(tag, itf.bulk_in), "INITIATE_ABORT_BULK_IN");
    if (!r) co_return r.error();
    if (r->status == usbtmc::Status::failed || r->status == usbtmc::Status::transfer_not_in_progress) co_return Result<void>{};
    if (r->status != usbtmc::Status::success)
        co_return fail(Errc::protocol_error, fmt::format("INITIATE_ABORT_BULK_IN answered {}", usbtmc::to_string(r->status)));
    co_await drain_in();
    for (int i = 0; i < kMaxPolls; ++i) {
        auto c = co_await control(usbtmc::check_abort_bulk_in_status(itf.bulk_in), "CHECK_ABORT_BULK_IN_STATUS");
        if (!c) co_return c.error();
        if (c->status != usbtmc::Status::pending) co_return Result<void>{};
        if (c->second & 0x01) co_await drain_in();
        asio::steady_timer pause(ex, kPollInterval);
        co_await pause.async_wait(use_nothrow);
    }
    co_return fail(Errc::timeout, "CHECK_ABORT_BULK_IN_STATUS still PENDING after 1 s");
}

asio::awaitable<Result<void>> UsbtmcStream::Impl::abort_out(std::uint8_t t) {
    auto r = co_await control(usbtmc::initiate_abort_bulk_out(t, itf.bulk_out), "INITIATE_ABORT_BULK_OUT");
    if (!r) co_return r.error();
    if (r->status == usbtmc::Status::success) {
        for (int i = 0;; ++i) {
            auto c = co_await control(usbtmc::check_abort_bulk_out_status(itf.bulk_out), "CHECK_ABORT_BULK_OUT_STATUS");
            if (!c) co_return c.error();
            if (c->status != usbtmc::Status::pending) break;
            if (i >= kMaxPolls) co_return fail(Errc::timeout, "CHECK_ABORT_BULK_OUT_STATUS still PENDING after 1 s");
            asio::steady_timer pause(ex, kPollInterval);
            co_await pause.async_wait(use_nothrow);
        }
    }
    co_return co_await clear_halt(itf.bulk_out);
}

// One Bulk-OUT message; a timeout aborts it on the instrument too.
asio::awaitable<Result<void>> UsbtmcStream::Impl::send(const Bytes& message, milliseconds timeout, std::uint8_t t) {
    auto d = co_await run(Transfer::bulk(handle, itf.bulk_out, message, timeout), "Bulk-OUT");
    if (d) co_return Result<void>{};
    if (d.error().code != Errc::timeout) co_return d.error();
    auto aborted = co_await abort_out(t);
    co_return fail(Errc::timeout, fmt::format("write blocked for {} ms (Bulk-OUT aborted{})", timeout.count(),
                                              aborted ? "" : ": " + aborted.error().message));
}

// REQUEST_DEV_DEP_MSG_IN, then a Bulk-IN transfer left in flight (no timeout: the reader waits
// for it in slices, and an abort or close cancels it).
asio::awaitable<Result<void>> UsbtmcStream::Impl::request_reply() {
    tag = usbtmc::next_tag(tag);
    const auto t = tag;
    if (auto s = co_await send(usbtmc::request_dev_dep_msg_in(t, kMaxReply), kRequestTimeout, t); !s) co_return s.error();
    if (!usable()) co_return gone();
    auto transfer = Transfer::bulk(handle, itf.bulk_in, Bytes(round_up(usbtmc::kHeaderLen + kMaxReply + 3, itf.bulk_in_packet)), milliseconds(0));
    if (!transfer->submit()) {
        if (transfer->why() == "device unplugged") unplugged();
        co_return fail(Errc::io_error, fmt::format("Bulk-IN: {}", transfer->why()));
    }
    in = InRead{t, transfer};
    co_return Result<void>{};
}

// The Bulk-IN transfer in flight has ended: its reply bytes join `buffered`.
Result<void> UsbtmcStream::Impl::take_reply() {
    auto [t, transfer] = *in;
    const auto& d = transfer->result();
    in.reset();
    if (d.status == LIBUSB_TRANSFER_CANCELLED && usable()) return {};  // asked for again if still wanted
    if (d.status != LIBUSB_TRANSFER_COMPLETED) {
        if (d.status == LIBUSB_TRANSFER_NO_DEVICE) unplugged();
        else if (lost.empty()) lost = fmt::format("{}: Bulk-IN {}", name, usb::status_text(d.status));
        return make_error(Errc::io_error, lost);
    }
    usbtmc::ResponseAssembler reply(t);
    auto eom = reply.feed_transfer(d.data);
    if (!eom) {
        lost = fmt::format("{}: {}", name, eom.error().message);  // the link is out of step: reopen (and clear) it
        return make_error(Errc::protocol_error, lost);
    }
    if (*eom) --expected;  // else: the reply continues; the reader asks for more
    buffered.insert(buffered.end(), reply.data().begin(), reply.data().end());
    return {};
}

asio::awaitable<Result<std::size_t>> UsbtmcStream::read_some(std::span<std::byte> buffer, milliseconds timeout) {
    auto self = impl_;
    auto& s = *self;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (!s.buffered.empty()) {
            const auto n = std::min(buffer.size(), s.buffered.size());
            std::copy_n(s.buffered.begin(), n, buffer.begin());
            s.buffered.erase(s.buffered.begin(), s.buffered.begin() + static_cast<std::ptrdiff_t>(n));
            co_return n;
        }
        if (!s.usable()) co_return s.gone();
        if (s.in && s.in->transfer->done()) {
            if (auto r = s.take_reply(); !r) co_return r.error();
            continue;
        }
        if (!s.in && s.expected > 0 && !s.busy) {
            s.busy = true;
            auto r = co_await s.request_reply();
            s.release();
            if (!r) co_return r.error();
            continue;
        }
        if (Clock::now() >= deadline) co_return s.fail(Errc::timeout, fmt::format("no data within {} ms", timeout.count()));
        if (s.in) co_await s.in->transfer->wait(deadline);
        else co_await s.wait_change(deadline);
    }
}

asio::awaitable<Result<void>> UsbtmcStream::write(ByteView bytes, milliseconds timeout) {
    auto self = impl_;
    auto& s = *self;
    const auto deadline = Clock::now() + timeout;
    if (!s.usable()) co_return s.gone();
    if (!co_await s.acquire(deadline)) co_return s.usable() ? s.fail(Errc::timeout, fmt::format("write blocked for {} ms", timeout.count())) : s.gone();
    if (!s.usable()) {
        s.release();
        co_return s.gone();
    }
    // A reply still outstanding was given up by the caller: the instrument drops it first.
    if (s.in || s.expected > 0) {
        if (auto a = co_await s.abort_in(); !a) {
            s.release();
            co_return a.error();
        }
    }
    s.tag = usbtmc::next_tag(s.tag);
    const auto t = s.tag;
    auto sent = co_await s.send(usbtmc::dev_dep_msg_out(t, bytes, true), timeout, t);
    if (sent && is_query(bytes)) ++s.expected;
    s.release();
    co_return sent;
}

asio::awaitable<Result<std::uint8_t>> UsbtmcStream::read_status_byte(milliseconds timeout) {
    auto self = impl_;
    auto& s = *self;
    if (!s.usable()) co_return s.gone();
    if (!s.itf.usb488) co_return s.fail(Errc::invalid_argument, "READ_STATUS_BYTE needs a USB488 interface; this one is plain USBTMC");
    if (!co_await s.acquire(Clock::now() + timeout)) co_return s.usable() ? s.fail(Errc::timeout, "READ_STATUS_BYTE: the port stayed busy") : s.gone();
    s.status_tag = s.status_tag >= 127 ? 2 : static_cast<std::uint8_t>(s.status_tag + 1);
    const auto t = s.status_tag;
    std::shared_ptr<Transfer> notification;
    if (s.itf.interrupt_in) {  // armed before the request, so the notification cannot be missed
        notification = Transfer::interrupt_in(s.handle, s.itf.interrupt_in, 2, timeout);
        if (!notification->submit()) notification.reset();
    }
    auto r = co_await s.control(usbtmc::read_status_byte(t, static_cast<std::uint16_t>(s.itf.interface_number)), "READ_STATUS_BYTE");
    Result<std::uint8_t> out = s.fail(Errc::protocol_error, "READ_STATUS_BYTE: no answer");
    if (!r) out = r.error();
    else if (r->status != usbtmc::Status::success) out = s.fail(Errc::protocol_error, fmt::format("READ_STATUS_BYTE answered {}", usbtmc::to_string(r->status)));
    else if (r->second != t) out = s.fail(Errc::protocol_error, fmt::format("READ_STATUS_BYTE answered bTag {}, asked {}", r->second, t));
    else if (!notification) out = r->third;
    if (notification) {
        if (r && r->status == usbtmc::Status::success && r->second == t) {
            while (!notification->done()) co_await notification->wait(Clock::time_point::max());
            const auto& d = notification->result();
            if (d.status != LIBUSB_TRANSFER_COMPLETED) out = s.fail(Errc::timeout, fmt::format("READ_STATUS_BYTE: Interrupt-IN {}", usb::status_text(d.status)));
            else if (auto stb = usbtmc::parse_status_notification(d.data, t); !stb) out = s.fail(Errc::protocol_error, stb.error().message);
            else out = *stb;
        } else {
            notification->cancel();
        }
    }
    s.release();
    co_return out;
}

void UsbtmcStream::close() {
    auto& s = *impl_;
    if (s.closed) return;
    s.closed = true;
    if (s.in) s.in->transfer->cancel();
    if (s.listener) s.ctx->unsubscribe(s.listener);
    s.listener = 0;
    s.notify();
    s.handle.reset();  // released once the transfers still in flight have ended
}

const std::string& UsbtmcStream::name() const { return impl_->name; }

Result<std::uint16_t> hex16(const std::string& text) {
    std::uint16_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
    if (ec != std::errc{} || p != text.data() + text.size()) return make_error(Errc::invalid_argument, "not hex");
    return v;
}

}  // namespace

asio::awaitable<Result<std::unique_ptr<Stream>>> open_usbtmc(asio::any_io_executor ex, const PortUri& uri, std::string name) {
    auto vid = hex16(uri.vid), pid = hex16(uri.pid);
    if (!vid || !pid) co_return make_error(Errc::invalid_argument, fmt::format("{}: VID and PID are 4 hex digits", name));
    auto ctx = usb::Context::get();
    if (!ctx) co_return make_error(ctx.error().code, fmt::format("{}: {}", name, ctx.error().message));
    auto found = std::make_shared<usb::UsbtmcInterface>();
    auto raw = (*ctx)->raw();
    std::function<Result<void>()> job = [raw, found, v = *vid, p = *pid, serial = uri.serial, name]() -> Result<void> {
        auto f = usb::open_usbtmc_interface(raw, v, p, serial, name);
        if (!f) return f.error();
        *found = *f;
        return {};
    };
    auto opened = co_await (*ctx)->blocking(ex, std::move(job));
    if (!opened) co_return opened.error();
    auto impl = std::make_shared<UsbtmcStream::Impl>();
    impl->ex = ex;
    impl->ctx = *ctx;
    impl->handle = std::make_shared<usb::Handle>(*ctx, ex, found->handle, found->interface_number);
    impl->itf = *found;
    impl->device = impl->handle->device();
    impl->name = std::move(name);
    std::weak_ptr<UsbtmcStream::Impl> weak = impl;
    impl->listener = impl->ctx->subscribe(ex, [weak](const usb::HotplugEvent& e) {
        if (auto s = weak.lock(); s && !e.arrived && e.device == s->device) s->unplugged();
    });
    auto stream = std::make_unique<UsbtmcStream>(impl);
    // A session starts clean whatever the last one left in the instrument's buffers.
    impl->busy = true;
    auto cleared = co_await impl->initiate_clear();
    impl->release();
    if (!cleared) co_return cleared.error();
    co_return std::unique_ptr<Stream>(std::move(stream));
}

asio::awaitable<bool> usb_arrival(asio::any_io_executor ex, const PortUri& uri, milliseconds timeout) {
    if (uri.scheme != PortUri::Scheme::usbtmc && uri.scheme != PortUri::Scheme::usb_serial) co_return false;
    auto v = hex16(uri.vid), p = hex16(uri.pid);
    if (!v || !p) co_return false;
    const std::uint16_t vid = *v, pid = *p;
    auto ctx = usb::Context::get();
    if (!ctx || !(*ctx)->hotplug()) co_return false;
    asio::steady_timer timer(ex, timeout);
    bool arrived = false;
    const int id = (*ctx)->subscribe(ex, [&](const usb::HotplugEvent& e) {
        if (e.arrived && e.vid == vid && e.pid == pid) {
            arrived = true;
            timer.cancel();
        }
    });
    co_await timer.async_wait(use_nothrow);
    (*ctx)->unsubscribe(id);
    co_return arrived;
}

}  // namespace rig::io
