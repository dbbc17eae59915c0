#include "protocols/scpi/client.hpp"

#include <fmt/format.h>

namespace rig::scpi {

namespace {
constexpr std::uint32_t kCommand = 0, kQuery = 1;

Bytes line_bytes(const std::string& text) {
    Bytes b(reinterpret_cast<const std::byte*>(text.data()), reinterpret_cast<const std::byte*>(text.data() + text.size()));
    b.push_back(std::byte{'\n'});
    return b;
}

std::string text_of(const Bytes& b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }
}  // namespace

session::RequestId Client::query(std::string text, session::Millis timeout) {
    return queue_.push(kQuery, line_bytes(text), session::Policy{timeout, 1});
}

session::RequestId Client::command(std::string text) { return queue_.push(kCommand, line_bytes(text), session::Policy{session::Millis(0), 1}); }

void Client::receive(ByteView bytes, session::Time now) {
    for (auto& line : reader_.feed(bytes)) {
        auto* e = queue_.in_flight();
        if (!e || e->key != kQuery || (drain_until_ && now < *drain_until_)) {
            ++stray_;
            notes_.push_back(fmt::format("event=scpi_stray_reply text=\"{}\"", line.substr(0, 60)));
            if (drain_until_) drain_until_ = now + kDrain;  // still talking: stay quiet longer
            continue;
        }
        queue_.complete(Bytes(reinterpret_cast<const std::byte*>(line.data()), reinterpret_cast<const std::byte*>(line.data() + line.size())));
    }
}

std::optional<Bytes> Client::transmit(session::Time now) {
    if (drain_pending_) {
        drain_pending_ = false;
        lost_reply(now);
    }
    if (drain_until_) {
        if (now < *drain_until_) return std::nullopt;
        drain_until_.reset();
    }
    auto* e = queue_.to_send(now);
    if (!e) return std::nullopt;
    Bytes out = e->payload;
    if (e->key == kCommand) queue_.complete(Bytes{});  // written is done: a command has no reply
    return out;
}

std::optional<session::Time> Client::deadline() const {
    auto d = queue_.deadline();
    if (d && drain_pending_) return session::Time{};  // start the drain now
    if (d && drain_until_ && *d < *drain_until_) return drain_until_;  // nothing goes out while draining
    return d;
}

void Client::lost_reply(session::Time now) { drain_until_ = now + kDrain; }

void Client::tick(session::Time now) {
    if (drain_pending_) {
        drain_pending_ = false;
        lost_reply(now);
    }
    auto* e = queue_.in_flight();
    if (!e || now < e->deadline) return;
    const std::string sent = text_of(e->payload);
    queue_.expire(now, [&](const session::RequestQueue::Entry& entry) {
        return make_error(Errc::timeout, fmt::format("no reply to {} within {} ms", sent.substr(0, sent.size() - 1), entry.policy.timeout.count()));
    });
    lost_reply(now);
}

void Client::cancel(session::RequestId id) {
    auto* e = queue_.in_flight();
    if (e && e->id == id && e->key == kQuery) drain_pending_ = true;  // its reply may still come: drain from the next call with a time
    queue_.cancel(id);
}

std::optional<std::string> Client::note() {
    if (notes_.empty()) return std::nullopt;
    auto n = std::move(notes_.front());
    notes_.pop_front();
    return n;
}

}  // namespace rig::scpi
