#include "protocols/crsf/handset.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace rig::crsf {

void Handset::channels(std::optional<std::array<std::uint16_t, 16>> ticks, session::Millis period) {
    ticks_ = ticks;
    period_ = period;
    if (!ticks_) next_rc_.reset();
}

session::RequestId Handset::ping(std::uint8_t dest, session::Policy policy, session::Time now) {
    const auto id = next_id_++;
    if (ping_) done_.push_back({ping_->id, make_error(Errc::cancelled, "ping superseded")});
    if (policy.attempts < 1) policy.attempts = 1;
    ping_ = Ping{id, dest, policy, 0, false, now};
    return id;
}

session::RequestId Handset::link_statistics(session::Time since, session::Millis timeout, session::Time now) {
    const auto id = next_id_++;
    if (link_ && link_->second >= since) done_.push_back({id, link_->first});
    else waits_.push_back({id, since, now + timeout});
    return id;
}

std::optional<Bytes> Handset::transmit(session::Time now) {
    if (ticks_ && (!next_rc_ || now >= *next_rc_)) {
        // Paced from the schedule, not from now: a late wake-up does not lower the rate.
        next_rc_ = next_rc_ && now - *next_rc_ < period_ ? *next_rc_ + period_ : now + period_;
        Frame f;
        f.address = addr::tx_module;
        f.type = type::rc_channels_packed;
        f.payload = RcChannels{*ticks_}.encode();
        ++rc_sent_;
        return encode(f);
    }
    if (ping_ && !ping_->waiting) {
        ping_->waiting = true;
        ++ping_->sent;
        ping_->deadline = now + ping_->policy.timeout;
        Frame f = make_ping(ping_->dest, addr::handset);
        f.address = addr::tx_module;
        return encode(f);
    }
    return std::nullopt;
}

std::optional<session::Time> Handset::deadline() const {
    std::optional<session::Time> d;
    auto consider = [&](session::Time t) {
        if (!d || t < *d) d = t;
    };
    if (ticks_) consider(next_rc_.value_or(session::Time{}));
    if (ping_) consider(ping_->waiting ? ping_->deadline : session::Time{});
    for (const auto& w : waits_) consider(w.deadline);
    return d;
}

void Handset::tick(session::Time now) {
    if (ping_ && ping_->waiting && now >= ping_->deadline) {
        if (ping_->sent < ping_->policy.attempts) ping_->waiting = false;
        else {
            done_.push_back({ping_->id, make_error(Errc::timeout, fmt::format("no DEVICE_INFO from device 0x{:02X} through the link within {} ms ({} pings)",
                                                                              ping_->dest, ping_->policy.timeout.count(), ping_->sent))});
            ping_.reset();
        }
    }
    std::erase_if(waits_, [&](const Wait& w) {
        if (now < w.deadline) return false;
        done_.push_back({w.id, make_error(Errc::timeout, "no LINK_STATISTICS from the transmitter module")});
        return true;
    });
}

void Handset::receive(ByteView bytes, session::Time now) {
    for (auto& f : parser_.feed(bytes)) {
        if (f.type == type::link_statistics) {
            link_ = std::pair{f.payload, now};
            for (auto& w : waits_)
                if (now >= w.since) done_.push_back({w.id, f.payload});
            std::erase_if(waits_, [&](const Wait& w) { return now >= w.since; });
        } else if (f.type == type::device_info && ping_ && ping_->waiting && f.origin == ping_->dest) {
            done_.push_back({ping_->id, std::move(f.payload)});
            ping_.reset();
        }
    }
}

std::optional<session::Done> Handset::completed() {
    if (done_.empty()) return std::nullopt;
    auto d = std::move(done_.front());
    done_.pop_front();
    return d;
}

void Handset::link_lost(const Error& why) {
    if (ping_) done_.push_back({ping_->id, why});
    ping_.reset();
    for (auto& w : waits_) done_.push_back({w.id, why});
    waits_.clear();
    ticks_.reset();
}

void Handset::cancel(session::RequestId id) {
    if (ping_ && ping_->id == id) ping_.reset();
    std::erase_if(waits_, [id](const Wait& w) { return w.id == id; });
    std::erase_if(done_, [id](const session::Done& d) { return d.id == id; });
}

}  // namespace rig::crsf
