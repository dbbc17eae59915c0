#include "rig/devices/scanner.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "rig/io/evdev.hpp"
#include "rig/io/stream.hpp"

namespace rig::devices {

using std::chrono::milliseconds;

namespace {
constexpr std::string_view kEvdev = "evdev:";
constexpr milliseconds kPoll{250};  // how soon stop() is seen
}  // namespace

// One open scanner: what it read in `timeout` (nothing: an empty list), with its decoder.
class ScanSource {
public:
    virtual ~ScanSource() = default;
    virtual asio::awaitable<Result<std::vector<scanner::Scan>>> read(milliseconds timeout) = 0;
    virtual std::optional<scanner::Scan> idle() = 0;
    virtual bool pending() const = 0;
    virtual std::string describe() const = 0;
};

namespace {

class LineSource final : public ScanSource {
public:
    explicit LineSource(std::unique_ptr<io::Stream> s) : stream_(std::move(s)) {}
    asio::awaitable<Result<std::vector<scanner::Scan>>> read(milliseconds timeout) override {
        std::array<std::byte, 256> buf{};
        auto n = co_await stream_->read_some(buf, timeout);
        if (!n && n.error().code == Errc::timeout) co_return std::vector<scanner::Scan>{};
        if (!n) co_return n.error();
        co_return framer_.feed(ByteView(buf.data(), *n));
    }
    std::optional<scanner::Scan> idle() override { return framer_.idle(); }
    bool pending() const override { return framer_.pending(); }
    std::string describe() const override { return stream_->name(); }

private:
    std::unique_ptr<io::Stream> stream_;
    scanner::LineFramer framer_;
};

class KeySource final : public ScanSource {
public:
    KeySource(std::unique_ptr<io::EvdevInput> in, std::string path) : in_(std::move(in)), path_(std::move(path)) {}
    asio::awaitable<Result<std::vector<scanner::Scan>>> read(milliseconds timeout) override {
        auto events = co_await in_->read(timeout);
        if (!events) co_return events.error();
        std::vector<scanner::Scan> out;
        for (const auto& e : *events) {
            if (e.type == scanner::ev::syn && e.code == scanner::ev::syn_dropped) keys_.dropped();
            else if (auto s = keys_.feed(e.type, e.code, e.value)) out.push_back(std::move(*s));
        }
        co_return out;
    }
    std::optional<scanner::Scan> idle() override { return keys_.idle(); }
    bool pending() const override { return keys_.pending(); }
    std::string describe() const override { return fmt::format("evdev:{} ('{}', grabbed)", path_, in_->name()); }

private:
    std::unique_ptr<io::EvdevInput> in_;
    std::string path_;
    scanner::KeyDecoder keys_;
};

asio::awaitable<Result<std::unique_ptr<ScanSource>>> open_source(asio::any_io_executor ex, const std::string& setting) {
    if (setting.starts_with(kEvdev)) {
        const std::string path = setting.substr(kEvdev.size());
        auto in = io::EvdevInput::open(ex, path);
        if (!in) co_return in.error();
        co_return std::unique_ptr<ScanSource>(new KeySource(std::move(*in), path));
    }
    auto s = co_await io::open(ex, setting);
    if (!s) co_return s.error();
    co_return std::unique_ptr<ScanSource>(new LineSource(std::move(*s)));
}

asio::awaitable<void> sleep_for(milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

bool is_scanner_device(const std::string& setting) { return setting != "jig" && setting != "page"; }

std::optional<std::string> scanner_setting_problem(const std::string& setting) {
    if (setting.starts_with(kEvdev)) {
        if (setting.size() == kEvdev.size() || setting[kEvdev.size()] != '/')
            return fmt::format("'{}': evdev: needs an absolute device path (evdev:/dev/input/by-id/...-event-kbd)", setting);
        return std::nullopt;
    }
    if (setting.find(':') == std::string::npos)
        return fmt::format("unknown scanner '{}' (jig, page, serial:PATH[?baud=N], usb-serial:VID:PID[:SERIAL], tcp:HOST:PORT, evdev:PATH)", setting);
    auto u = io::parse_uri(setting);
    if (!u) return u.error().message;
    if (u->scheme == io::PortUri::Scheme::usbtmc) return fmt::format("'{}': a scanner is no USBTMC instrument", setting);
    return std::nullopt;
}

BarcodeScanner::BarcodeScanner(std::string setting, Events events) : setting_(std::move(setting)), events_(std::move(events)) {}

asio::awaitable<void> BarcodeScanner::run() {
    auto ex = co_await asio::this_coro::executor;
    std::string logged;  // the last reason it could not be opened, logged once
    bool told = false;   // the operator was told it is gone
    while (!stop_) {
        auto source = co_await open_source(ex, setting_);
        if (!source) {
            if (logged != source.error().message) {
                logged = source.error().message;
                events_.log(fmt::format("event=scanner_unavailable error=\"{}\"", logged));
            }
            if (!told) events_.availability("scanner unavailable: " + logged);
            told = true;
            for (auto waited = milliseconds(0); waited < kRetry && !stop_; waited += kPoll) co_await sleep_for(kPoll);
            continue;
        }
        connected_ = true;
        logged.clear();
        events_.log(fmt::format("event=scanner_ready scanner=\"{}\"", (*source)->describe()));
        if (told) events_.availability("");
        told = false;
        co_await read_until_lost(**source);
        connected_ = false;
        told = !stop_;  // read_until_lost told the operator
    }
}

asio::awaitable<void> BarcodeScanner::read_until_lost(ScanSource& source) {
    while (!stop_) {
        auto got = co_await source.read(source.pending() ? kIdle : kPoll);
        if (!got) {
            events_.log(fmt::format("event=scanner_lost error=\"{}\"", got.error().message));
            events_.availability("scanner lost: " + got.error().message);
            co_return;
        }
        if (got->empty() && source.pending()) {
            if (auto s = source.idle()) events_.read(*s);
        }
        for (const auto& s : *got) events_.read(s);
    }
}

}  // namespace rig::devices
