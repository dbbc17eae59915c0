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

std::optional<session::Time> Client::deadline() const {
    auto d = queue_.deadline();
    if (heartbeat_period_ && queue_.empty()) {
        const auto due = last_sent_ ? *last_sent_ + *heartbeat_period_ : session::Time{};
        if (!d || due < *d) d = due;
    }
    return d;
}

void Client::tick(session::Time now) {
    queue_.expire(now, [](const session::RequestQueue::Entry& e) {
        return make_error(Errc::timeout, fmt::format("jig did not answer {} within {} ms", command_name(static_cast<Command>(e.key)),
                                                     e.policy.timeout.count()));
    });
    if (heartbeat_period_ && queue_.empty() && (!last_sent_ || now - *last_sent_ >= *heartbeat_period_))
        queue_.push(static_cast<std::uint32_t>(Command::heartbeat), {}, heartbeat_policy_, true);
}

std::optional<Bytes> Client::transmit(session::Time now) {
    auto* e = queue_.to_send(now);
    if (!e) return std::nullopt;
    in_flight_seq_ = seq_++;
    last_sent_ = now;
    return encode(Frame{Kind::request, in_flight_seq_, static_cast<Command>(e->key), e->payload});
}

void Client::receive(ByteView bytes, session::Time) {
    for (auto& f : parser_.feed(bytes)) {
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

}  // namespace rig::jig
