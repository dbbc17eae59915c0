#include "protocols/msp/client.hpp"

#include <fmt/format.h>

#include "protocols/msp/messages.hpp"

namespace rig::msp {

session::RequestId Client::request(std::uint16_t command, Bytes payload, session::Policy policy) {
    return queue_.push(command, std::move(payload), policy);
}

std::optional<Bytes> Client::transmit(session::Time now) {
    auto* e = queue_.to_send(now);
    if (!e) return std::nullopt;
    const auto command = static_cast<std::uint16_t>(e->key);
    if (e->sent > 1) {
        ++retries_;
        notes_.push_back(fmt::format("event=msp_retry command=\"{}\" attempt={}", command_name(command), e->sent));
    }
    const Frame f{Direction::request, command, e->payload, command >= 255 ? Version::v2 : Version::v1, 0};
    return encode(f);
}

void Client::receive(ByteView bytes, session::Time) {
    for (auto& f : parser_.feed(bytes)) {
        if (f.dir == Direction::request) continue;  // our own echo on a half-duplex line
        auto* e = queue_.in_flight();
        if (!e || f.command != e->key) {
            ++stale_;
            continue;
        }
        if (f.dir == Direction::error)
            queue_.complete(make_error(Errc::protocol_error, fmt::format("flight controller refused {}", command_name(f.command))));
        else
            queue_.complete(std::move(f.payload));
    }
}

void Client::tick(session::Time now) {
    queue_.expire(now, [](const session::RequestQueue::Entry& e) {
        const auto command = static_cast<std::uint16_t>(e.key);
        return make_error(Errc::timeout, fmt::format("flight controller did not answer {} within {} ms ({} attempt{})", command_name(command),
                                                     e.policy.timeout.count(), e.sent, e.sent > 1 ? "s" : ""));
    });
}

std::optional<std::string> Client::note() {
    if (notes_.empty()) return std::nullopt;
    auto n = std::move(notes_.front());
    notes_.pop_front();
    return n;
}

}  // namespace rig::msp
