#include "protocols/mavlink/client.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fmt/format.h>

namespace rig::mavlink {

namespace {
constexpr std::size_t kReadsPerRound = 20;
constexpr session::Millis kStatusTextFresh{2000};

bool is_integer_type(std::uint8_t t) { return t >= 1 && t <= 8; }

// ArduPilot sends integer parameters as float values; PX4 sends their bytes in the float
// (MAV_PROTOCOL_CAPABILITY_PARAM_ENCODE_BYTEWISE).
std::string param_text(const ParamValue& p, bool bytewise) {
    if (!is_integer_type(p.param_type)) return fmt::format("{:.9g}", p.param_value);
    if (!bytewise) return fmt::format("{}", static_cast<long long>(std::llround(p.param_value)));
    std::uint32_t bits = 0;
    std::memcpy(&bits, &p.param_value, 4);
    switch (p.param_type) {
    case 1: return fmt::format("{}", bits & 0xFF);
    case 2: return fmt::format("{}", static_cast<std::int8_t>(bits & 0xFF));
    case 3: return fmt::format("{}", bits & 0xFFFF);
    case 4: return fmt::format("{}", static_cast<std::int16_t>(bits & 0xFFFF));
    case 5: return fmt::format("{}", bits);
    default: return fmt::format("{}", static_cast<std::int32_t>(bits));
    }
}
}  // namespace

session::RequestId Client::command(const CommandLong& c, session::Policy policy, session::Time now) {
    if (policy.attempts < 1) policy.attempts = 1;
    const auto id = next_id_++;
    // Unsent until an autopilot is known; it gives up after what all its attempts would take.
    commands_.push_back(Cmd{id, c, policy, 0, false, now + policy.timeout * policy.attempts});
    return id;
}

session::RequestId Client::message(std::uint32_t msgid, session::Time since, session::Millis timeout, session::Time now) {
    const auto id = next_id_++;
    if (auto it = cache_.find(msgid); it != cache_.end() && it->second.at >= since) {
        finish(id, it->second.payload);
        return id;
    }
    waits_.push_back(Wait{id, msgid, since, now + timeout});
    return id;
}

session::RequestId Client::params(session::Policy policy, session::Time now) {
    const auto id = next_id_++;
    if (params_) finish(params_->id, make_error(Errc::cancelled, "parameter fetch superseded"));
    params_ = ParamFetch{};
    params_->id = id;
    params_->policy = policy;
    params_->deadline = now + policy.timeout * std::max(1, policy.attempts);
    return id;
}

void Client::keep_command(std::optional<CommandLong> c, session::Millis period) {
    keep_ = std::move(c);
    keep_period_ = period;
    keep_due_.reset();
}

Bytes Client::frame(std::uint32_t msgid, const Bytes& payload) {
    Header h = self_;
    h.seq = self_.seq++;
    return encode_v2(h, msgid, payload);
}

std::optional<Bytes> Client::transmit(session::Time now) {
    if (!next_gcs_heartbeat_ || now >= *next_gcs_heartbeat_) {
        next_gcs_heartbeat_ = now + kHeartbeatPeriod;
        Heartbeat hb;
        hb.type = kTypeGcs;
        hb.autopilot = kAutopilotInvalid;
        hb.system_status = 4;  // MAV_STATE_ACTIVE
        return frame(hb);
    }
    if (!out_.empty()) {
        auto b = std::move(out_.front());
        out_.pop_front();
        return b;
    }
    if (!target_) return std::nullopt;
    if (!commands_.empty() && !commands_.front().waiting) {
        Cmd& c = commands_.front();
        CommandLong cl = c.command;
        cl.target_system = target_->system;
        cl.target_component = target_->component;
        cl.confirmation = static_cast<std::uint8_t>(std::min(c.sent, 255));
        if (c.sent > 0) notes_.push_back(fmt::format("event=mavlink_retry command=\"{}\" attempt={}", command_name(cl.command), c.sent + 1));
        ++c.sent;
        c.waiting = true;
        c.deadline = now + c.policy.timeout;
        return frame(cl);
    }
    if (keep_ && (!keep_due_ || now >= *keep_due_)) {
        keep_due_ = now + keep_period_;
        CommandLong cl = *keep_;
        cl.target_system = target_->system;
        cl.target_component = target_->component;
        return frame(cl);
    }
    if (params_) {
        if (params_->list_due) {
            params_->list_due = false;
            params_->deadline = now + params_->policy.timeout;
            return frame(ParamRequestList{target_->system, target_->component});
        }
        if (!params_->reads_due.empty()) {
            ParamRequestRead r;
            r.param_index = static_cast<std::int16_t>(params_->reads_due.back());
            params_->reads_due.pop_back();
            r.target_system = target_->system;
            r.target_component = target_->component;
            return frame(r);
        }
    }
    return std::nullopt;
}

std::optional<session::Time> Client::deadline() const {
    std::optional<session::Time> d = next_gcs_heartbeat_.value_or(session::Time{});
    auto consider = [&](session::Time t) {
        if (!d || t < *d) d = t;
    };
    if (!out_.empty()) consider(session::Time{});
    if (last_heartbeat_ && !heartbeat_lost_) consider(*last_heartbeat_ + kHeartbeatLost);
    if (!commands_.empty()) consider(target_ && !commands_.front().waiting ? session::Time{} : commands_.front().deadline);
    for (const auto& w : waits_) consider(w.deadline);
    if (keep_ && target_) consider(keep_due_.value_or(session::Time{}));
    if (params_) consider(target_ && (params_->list_due || !params_->reads_due.empty()) ? session::Time{} : params_->deadline);
    return d;
}

void Client::finish(session::RequestId id, Result<Bytes> r) { done_.push_back(session::Done{id, std::move(r)}); }

std::string Client::recent_text(session::Time now) const {
    if (status_text_.empty() || now - status_text_at_ > kStatusTextFresh) return "";
    return " (autopilot: \"" + status_text_ + "\")";
}

void Client::tick(session::Time now) {
    if (last_heartbeat_ && !heartbeat_lost_ && now - *last_heartbeat_ >= kHeartbeatLost) {
        heartbeat_lost_ = true;
        notes_.push_back("event=autopilot_heartbeat_lost");
        link_lost(make_error(Errc::timeout, "no HEARTBEAT from the autopilot for 3 s"));
    }
    if (!commands_.empty()) {
        Cmd& c = commands_.front();
        const auto name = command_name(c.command.command);
        if (c.waiting && now >= c.deadline) {
            if (c.sent < c.policy.attempts) {
                c.waiting = false;
            } else {
                finish(c.id, make_error(Errc::timeout, fmt::format("autopilot did not acknowledge {} within {} ms ({} attempt{})", name,
                                                                   c.policy.timeout.count(), c.sent, c.sent > 1 ? "s" : "")));
                commands_.pop_front();
            }
        } else if (!c.waiting && !target_ && now >= c.deadline) {
            finish(c.id, make_error(Errc::timeout, fmt::format("no HEARTBEAT from an autopilot: {} not sent", name)));
            commands_.pop_front();
        }
    }
    std::erase_if(waits_, [&](const Wait& w) {
        if (now < w.deadline) return false;
        const auto* info = find_message(w.msgid);
        finish(w.id, make_error(Errc::timeout, fmt::format("no {} from the autopilot within {} ms", info ? info->name : std::to_string(w.msgid),
                                                           std::chrono::duration_cast<session::Millis>(w.deadline - w.since).count())));
        return true;
    });
    if (params_ && !target_ && now >= params_->deadline) {
        finish(params_->id, make_error(Errc::timeout, "no HEARTBEAT from an autopilot: PARAM_REQUEST_LIST not sent"));
        params_.reset();
    }
    if (params_ && now >= params_->deadline && params_->reads_due.empty() && !params_->list_due) param_round(now);
}

void Client::param_round(session::Time now) {
    ParamFetch& p = *params_;
    ++p.rounds;
    if (p.count < 0) {
        if (p.rounds >= p.policy.attempts) {
            finish(p.id, make_error(Errc::timeout, fmt::format("no PARAM_VALUE after PARAM_REQUEST_LIST ({} attempts of {} ms)", p.rounds,
                                                               p.policy.timeout.count())));
            params_.reset();
            return;
        }
        p.list_due = true;
        return;
    }
    std::vector<std::uint16_t> missing;
    for (int i = 0; i < p.count; ++i)
        if (!p.values.count(static_cast<std::uint16_t>(i))) missing.push_back(static_cast<std::uint16_t>(i));
    if (p.rounds > p.policy.attempts) {
        std::string list;
        for (std::size_t i = 0; i < missing.size() && i < 10; ++i) list += (i ? ", " : "") + std::to_string(missing[i]);
        finish(p.id, make_error(Errc::timeout, fmt::format("parameter list incomplete: {} of {} received after {} re-requests (missing index {}{})",
                                                           p.values.size(), p.count, p.rounds - 1, list, missing.size() > 10 ? ", ..." : "")));
        params_.reset();
        return;
    }
    notes_.push_back(fmt::format("event=param_rerequest missing={}", missing.size()));
    if (missing.size() > kReadsPerRound) missing.resize(kReadsPerRound);
    std::reverse(missing.begin(), missing.end());  // sent from the back
    p.reads_due = std::move(missing);
    p.deadline = now + p.policy.timeout;
}

void Client::on_param(const ParamValue& v, session::Time now) {
    if (!params_) return;
    ParamFetch& p = *params_;
    if (v.param_index >= v.param_count) return;  // 65535: an answer to a read by name
    if (p.count < 0) p.count = v.param_count;
    if (v.param_count != p.count) {
        // The list changed under us (a parameter appeared): start over.
        p.count = v.param_count;
        p.values.clear();
    }
    p.values[v.param_index] = to_string(v.param_id) + "=" + param_text(v, params_bytewise());
    p.deadline = now + p.policy.timeout;
    if (static_cast<int>(p.values.size()) < p.count) return;
    std::vector<std::string> lines;
    for (auto& [i, line] : p.values) lines.push_back(line);
    std::sort(lines.begin(), lines.end());
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    finish(p.id, Bytes(reinterpret_cast<const std::byte*>(text.data()), reinterpret_cast<const std::byte*>(text.data()) + text.size()));
    params_.reset();
}

void Client::on_ack(const CommandAck& ack, session::Time now) {
    if (commands_.empty() || !commands_.front().waiting) return;
    Cmd& c = commands_.front();
    if (ack.command != c.command.command) return;
    if (ack.target_system != 0 && ack.target_system != self_.sysid) return;
    const auto result = static_cast<MavResult>(ack.result);
    if (result == MavResult::in_progress) {
        c.deadline = now + c.policy.timeout;  // still working: wait on
        return;
    }
    if (result == MavResult::accepted) finish(c.id, payload(ack));
    else
        finish(c.id, make_error(Errc::protocol_error, fmt::format("autopilot refused {}: {}{}", command_name(c.command.command), result_name(ack.result),
                                                                  recent_text(now))));
    commands_.pop_front();
}

bool Client::params_bytewise() const {
    // The autopilot says how it encodes integer parameters in AUTOPILOT_VERSION's capabilities;
    // before that is known, its family does (PX4 bytewise, ArduPilot C-cast).
    if (auto it = cache_.find(AutopilotVersion::info.id); it != cache_.end()) {
        Frame f;
        f.msgid = AutopilotVersion::info.id;
        f.payload = it->second.payload;
        if (auto v = decode<AutopilotVersion>(f)) {
            if (v->capabilities & kCapabilityParamEncodeCCast) return false;
            if (v->capabilities & kCapabilityParamEncodeBytewise) return true;
        }
    }
    return heartbeat_.autopilot == kAutopilotPx4;
}

std::optional<Bytes> Client::latest(std::uint32_t msgid, session::Time since) const {
    auto it = cache_.find(msgid);
    if (it == cache_.end() || it->second.at < since) return std::nullopt;
    return it->second.payload;
}

void Client::on_frame(const FrameView& f, session::Time now) {
    if (f.msgid == Heartbeat::info.id) {
        auto hb = decode<Heartbeat>(f);
        if (!hb) return;
        if (!target_ && hb->autopilot != kAutopilotInvalid && hb->type != kTypeGcs) target_ = Target{f.sysid, f.compid};
        if (!target_ || f.sysid != target_->system || f.compid != target_->component) return;
        heartbeat_ = *hb;
        last_heartbeat_ = now;
        if (heartbeat_lost_) notes_.push_back("event=autopilot_heartbeat_back");
        heartbeat_lost_ = false;
    }
    if (!target_ || f.sysid != target_->system) return;
    auto& cached = cache_[f.msgid];  // the payload zero-extended, as decode expects
    cached.payload.assign(f.payload.begin(), f.payload.end());
    if (f.info && cached.payload.size() < f.info->full_len) cached.payload.resize(f.info->full_len, std::byte{0});
    cached.at = now;
    if (f.msgid == StatusText::info.id) {
        if (auto t = decode<StatusText>(f)) {
            status_text_ = to_string(t->text);
            status_text_at_ = now;
            notes_.push_back(fmt::format("event=autopilot_text severity={} text=\"{}\"", t->severity, status_text_));
        }
    } else if (f.msgid == CommandAck::info.id) {
        if (auto a = decode<CommandAck>(f)) on_ack(*a, now);
    } else if (f.msgid == ParamValue::info.id) {
        if (auto p = decode<ParamValue>(f)) on_param(*p, now);
    }
    std::erase_if(waits_, [&](const Wait& w) {
        if (w.msgid != f.msgid || now < w.since) return false;
        finish(w.id, cached.payload);
        return true;
    });
}

void Client::receive(ByteView bytes, session::Time now) {
    struct Sink final : FrameSink {
        Client& c;
        session::Time now;
        Sink(Client& cl, session::Time t) : c(cl), now(t) {}
        void frame(const FrameView& f) override { c.on_frame(f, now); }
    } sink(*this, now);
    parser_.feed(bytes, sink);
}

std::optional<session::Done> Client::completed() {
    if (done_.empty()) return std::nullopt;
    auto d = std::move(done_.front());
    done_.pop_front();
    return d;
}

void Client::link_lost(const Error& why) {
    for (auto& c : commands_) finish(c.id, why);
    commands_.clear();
    for (auto& w : waits_) finish(w.id, why);
    waits_.clear();
    if (params_) finish(params_->id, why);
    params_.reset();
}

void Client::cancel(session::RequestId id) {
    std::erase_if(commands_, [id](const Cmd& c) { return c.id == id; });
    std::erase_if(waits_, [id](const Wait& w) { return w.id == id; });
    if (params_ && params_->id == id) params_.reset();
    std::erase_if(done_, [id](const session::Done& d) { return d.id == id; });
}

std::optional<std::string> Client::note() {
    if (notes_.empty()) return std::nullopt;
    auto n = std::move(notes_.front());
    notes_.pop_front();
    return n;
}

}  // namespace rig::mavlink
