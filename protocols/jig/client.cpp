#include "protocols/jig/client.hpp"

#include <fmt/format.h>

namespace rig::jig {

session::RequestId Client::request(Command command, Bytes payload, session::Policy policy) {
    return queue_.push(static_cast<std::uint32_t>(command), std::move(payload), policy);
}

void Client::keepalive(std::optional<session::Millis> period, session::Policy policy) {
    heartbeat_period_ = period;
    heartbeat_policy_ = policy;
    if (!period) queue_.drop_unsent_internal();
}

session::RequestId Client::status_event(session::Millis timeout, session::Time now) {
    const auto id = kEventBit | next_event_++;
    event_waits_.push_back({id, now + timeout});
    return id;
}

void Client::fail_event_waits(const Error& why) {
    for (const auto& w : event_waits_) event_done_.push_back({w.id, why});
    event_waits_.clear();
}

std::optional<session::Done> Client::completed() {
    if (!event_done_.empty()) {
        auto d = std::move(event_done_.front());
        event_done_.pop_front();
        return d;
    }
    return queue_.completed();
}

void Client::link_lost(const Error& why) {
    queue_.fail_all(why);
    fail_event_waits(why);
}

void Client::cancel(session::RequestId id) {
    if (!(id & kEventBit)) return queue_.cancel(id);
    std::erase_if(event_waits_, [id](const EventWait& w) { return w.id == id; });
    std::erase_if(event_done_, [id](const session::Done& d) { return d.id == id; });
}

std::optional<session::Time> Client::deadline() const {
    auto d = queue_.deadline();
    for (const auto& w : event_waits_)
        if (!d || w.deadline < *d) d = w.deadline;
    if (heartbeat_period_ && queue_.empty()) {
        const auto due = last_sent_ ? *last_sent_ + *heartbeat_period_ : session::Time{};
        if (!d || due < *d) d = due;
    }
    return d;
}

void Client::tick(session::Time now) {
    std::erase_if(event_waits_, [&](const EventWait& w) {
        if (now < w.deadline) return false;
        event_done_.push_back({w.id, make_error(Errc::timeout, "no STATUS_CHANGED event from the jig")});
        return true;
    });
    queue_.expire(now, [](const session::RequestQueue::Entry& e) {
        return make_error(Errc::timeout, fmt::format("jig did not answer {} within {} ms{}", command_name(static_cast<Command>(e.key)),
                                                     e.policy.timeout.count(),
                                                     e.sent > 1 ? fmt::format(" ({} attempts)", e.sent) : std::string()));
    });
    if (heartbeat_period_ && queue_.empty() && (!last_sent_ || now - *last_sent_ >= *heartbeat_period_))
        queue_.push(static_cast<std::uint32_t>(Command::heartbeat), {}, heartbeat_policy_, true);
}

std::optional<Bytes> Client::transmit(session::Time now) {
    auto* e = queue_.to_send(now);
    if (!e) return std::nullopt;
    in_flight_seq_ = seq_++;
    last_sent_ = now;
    if (e->sent > 1) {
        ++retries_;
        notes_.push_back(fmt::format("event=jig_retry command={} attempt={}", command_name(static_cast<Command>(e->key)), e->sent));
    }
    return encode(Frame{Kind::request, in_flight_seq_, static_cast<Command>(e->key), e->payload});
}

void Client::receive(ByteView bytes, session::Time) {
    for (auto& f : parser_.feed(bytes)) {
        if (f.kind == Kind::event) {
            if (f.command != Command::read_lid || f.payload.size() != 1) {
                ++stale_;
                continue;
            }
            for (const auto& w : event_waits_) event_done_.push_back({w.id, f.payload});
            event_waits_.clear();
            continue;
        }
        auto* e = queue_.in_flight();
        if (f.kind == Kind::request || !e || f.seq != in_flight_seq_ || static_cast<std::uint32_t>(f.command) != e->key) {
            ++stale_;
            continue;
        }
        if (f.kind == Kind::error) {
            auto err = decode_error(f.payload);
            queue_.complete(make_error(Errc::protocol_error, fmt::format("jig refused {}: {} (code {})", command_name(f.command),
                                                                         err ? err->message : "?", err ? static_cast<int>(err->code) : 0)));
        } else {
            queue_.complete(std::move(f.payload));
        }
    }
}

std::optional<std::string> Client::note() {
    if (notes_.empty()) return std::nullopt;
    auto n = std::move(notes_.front());
    notes_.pop_front();
    return n;
}

}  // namespace rig::jig
