#include "protocols/slcan/link.hpp"

#include <fmt/format.h>
#include <stdexcept>
#include <utility>

namespace rig::slcan {

namespace {
Bytes to_bytes(const std::string& s) {
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return Bytes(p, p + s.size());
}
std::string trimmed(const std::string& command) { return command.substr(0, command.size() - 1); }  // without its CR
}  // namespace

Link::Link(CanSession& inner, unsigned bitrate) : inner_(inner), bitrate_(bitrate) {
    auto code = slcan::bitrate(bitrate);
    if (!code) throw std::invalid_argument(fmt::format("slcan: no SLCAN bitrate code for {} bit/s (S0..S8: 10k..1M)", bitrate));
    bitrate_command_ = *code;
}

std::string Link::command_for(State s) const {
    switch (s) {
    case State::closing: return close();
    case State::bitrate: return bitrate_command_;
    case State::opening: return slcan::open();
    default: return {};
    }
}

void Link::fail(const std::string& why) {
    state_ = State::failed;
    failed_ = why;
    opened_ = session::Done{kOpened, make_error(Errc::io_error, why)};
    inner_.link_lost(make_error(Errc::io_error, why));
}

void Link::receive(ByteView bytes, session::Time now) {
    for (auto& event : parser_.feed(bytes)) {
        if (auto* line = std::get_if<FrameLine>(&event)) {
            if (state_ == State::open) inner_.receive(line->frame, now);
            continue;
        }
        const bool ok = std::holds_alternative<Ok>(event), bell = std::holds_alternative<Bell>(event);
        if (state_ == State::open) {
            if (bell) notes_.push_back("event=slcan_refused (the adapter's transmit buffer is full or the bus is off)");
            continue;
        }
        if (!command_sent_ || (!ok && !bell)) continue;
        command_sent_ = false;
        switch (state_) {
        case State::closing: state_ = State::bitrate; break;  // BELL too: the channel was not open
        case State::bitrate:
            if (bell) return fail(fmt::format("slcan adapter refused bitrate {} bit/s ({})", bitrate_, trimmed(bitrate_command_)));
            state_ = State::opening;
            break;
        case State::opening:
            if (bell) return fail("slcan adapter refused to open the channel (O)");
            state_ = State::open;
            opened_ = session::Done{kOpened, Bytes{}};
            notes_.push_back(fmt::format("event=slcan_open bitrate={}", bitrate_));
            break;
        default: break;
        }
    }
}

std::optional<Bytes> Link::transmit(session::Time now) {
    if (state_ == State::failed) return std::nullopt;
    if (state_ != State::open) {
        if (command_sent_) return std::nullopt;
        command_sent_ = true;
        command_deadline_ = now + kCommandTimeout;
        return to_bytes(command_for(state_));
    }
    auto f = inner_.transmit(now);
    if (!f) return std::nullopt;
    return to_bytes(frame(*f));
}

std::optional<session::Time> Link::deadline() const {
    if (state_ == State::failed) return std::nullopt;
    if (state_ != State::open) return command_sent_ ? std::optional(command_deadline_) : std::optional(session::Time{});
    return inner_.deadline();
}

void Link::tick(session::Time now) {
    if (state_ == State::open) return inner_.tick(now);
    if (state_ != State::failed && command_sent_ && now >= command_deadline_)
        fail(fmt::format("slcan adapter did not answer {} within {} ms (no adapter on this port?)", trimmed(command_for(state_)),
                         kCommandTimeout.count()));
}

std::optional<session::Done> Link::completed() {
    if (opened_) return std::exchange(opened_, std::nullopt);
    return inner_.completed();
}

std::optional<std::string> Link::note() {
    if (!notes_.empty()) {
        auto n = std::move(notes_.front());
        notes_.pop_front();
        return n;
    }
    return inner_.note();
}

}  // namespace rig::slcan
