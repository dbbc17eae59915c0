#include "protocols/dronecan/node.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>

namespace rig::dronecan {

namespace {
std::uint64_t micros(session::Time t) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}
void earliest(std::optional<session::Time>& d, session::Time t) {
    if (!d || t < *d) d = t;
}
}  // namespace

Node::Node(std::uint8_t node_id) : id_(node_id), rx_(node_id, known_signature) {
    if (node_id < 1 || node_id > 125) throw std::invalid_argument(fmt::format("DroneCAN node id {} outside 1..125", node_id));
}

std::uint8_t Node::next_transfer_id(Kind kind, std::uint16_t type, std::uint8_t destination) {
    auto& tid = transfer_ids_[{kind, type, destination}];
    const auto now = tid;
    tid = static_cast<std::uint8_t>((tid + 1) & 31);
    return now;
}

void Node::send(Kind kind, std::uint16_t type, std::uint8_t destination, Bytes payload, std::uint64_t signature, std::uint8_t prio,
                std::optional<std::uint8_t> transfer_id) {
    Transfer t;
    t.id.kind = kind;
    t.id.priority = prio;
    t.id.data_type_id = type;
    t.id.source = id_;
    t.id.destination = destination;
    t.transfer_id = transfer_id ? *transfer_id : next_transfer_id(kind, type, destination);
    t.payload = std::move(payload);
    for (auto& f : encode_transfer(t, signature)) out_.push_back(std::move(f));
}

session::RequestId Node::get_node_info(std::uint8_t node, session::Policy policy, session::Time now) {
    const auto id = next_id_++;
    if (policy.attempts < 1) policy.attempts = 1;
    pending_.push_back({id, node, 0, policy, 0, false, now});
    if (clash_) finish(id, make_error(Errc::protocol_error, *clash_));
    return id;
}

void Node::stream_esc(std::vector<std::int16_t> command, session::Millis period, session::Time now) {
    esc_command_ = std::move(command);
    esc_period_ = std::clamp(period, session::Millis(1), kMaxCommandPeriod);
    esc_due_ = now;
}

void Node::stop_esc(session::Time) {
    if (!esc_command_) return;
    EscRawCommand zero;
    zero.cmd.assign(esc_command_->size(), 0);
    esc_command_.reset();
    esc_due_.reset();
    // Ahead of anything queued: the stop must not wait behind a burst of other frames, and a
    // command still queued must never follow it (it would spin the motor again).
    std::deque<CanFrame> rest;
    rest.swap(out_);
    std::erase_if(rest, [](const CanFrame& f) {
        const auto id = decode_id(f.id);
        return id.kind == Kind::message && id.data_type_id == EscRawCommand::id;
    });
    send(Kind::message, EscRawCommand::id, 0, zero.encode(), EscRawCommand::signature, priority::high);
    for (auto& f : rest) out_.push_back(std::move(f));
}

std::optional<EscReading> Node::esc(std::uint8_t index) const {
    auto it = escs_.find(index);
    if (it == escs_.end()) return std::nullopt;
    return it->second;
}

void Node::receive(const CanFrame& frame, session::Time now) {
    if (frame.extended && !frame.rtr && !frame.data.empty()) {
        const auto cid = decode_id(frame.id);
        if (cid.source == id_ && !(cid.kind == Kind::message && cid.source == 0) && !clash_) {
            clash_ = fmt::format("node id clash: another node on the bus sends as node {} (rig's own id)", id_);
            notes_.push_back(fmt::format("event=node_id_clash node={}", id_));
            while (!pending_.empty()) finish(pending_.front().id, make_error(Errc::protocol_error, *clash_));
        }
    }
    if (auto t = rx_.feed(frame, micros(now))) on_transfer(*t, now);
}

void Node::on_transfer(const Transfer& t, session::Time now) {
    const auto src = t.id.source;
    if (t.id.kind == Kind::message && t.id.data_type_id == NodeStatus::id && src != 0) {
        auto s = NodeStatus::decode(t.payload);
        if (!s) return;
        auto& n = nodes_[src];
        if (!n.online) {
            n.first_seen = now;
            notes_.push_back(fmt::format("event=node_online node={} health={} mode={}", src, static_cast<int>(s->health), static_cast<int>(s->mode)));
        } else if (s->uptime_s + 1 < n.status.uptime_s) {
            notes_.push_back(fmt::format("event=node_restarted node={} uptime_s={}", src, s->uptime_s));  // uptime went backwards
        }
        n.online = true;
        n.status = *s;
        n.last_seen = now;
    } else if (t.id.kind == Kind::message && t.id.data_type_id == EscStatus::id) {
        if (auto s = EscStatus::decode(t.payload)) escs_[s->esc_index] = {*s, src, now};
    } else if (t.id.kind == Kind::response && t.id.data_type_id == GetNodeInfo::id) {
        for (auto& p : pending_)
            if (p.waiting && p.node == src && p.transfer_id == t.transfer_id) return finish(p.id, t.payload);
    } else if (t.id.kind == Kind::request && t.id.data_type_id == GetNodeInfo::id) {
        // A tool (the DroneCAN GUI) asking who we are: answer with the same transfer id.
        GetNodeInfo::Response r;
        r.status.uptime_s = started_ ? static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now - *started_).count()) : 0;
        r.sw_major = 1;
        r.name = "org.rig.rigd";
        send(Kind::response, GetNodeInfo::id, src, r.encode(), GetNodeInfo::signature, priority::low, t.transfer_id);
    }
}

void Node::finish(session::RequestId id, Result<Bytes> r) {
    std::erase_if(pending_, [id](const Pending& p) { return p.id == id; });
    done_.push_back({id, std::move(r)});
}

std::optional<session::Time> Node::deadline() const {
    std::optional<session::Time> d;
    if (!started_) return session::Time{};  // the first NodeStatus is due at once
    if (next_status_) earliest(d, *next_status_);
    if (esc_due_) earliest(d, *esc_due_);
    for (const auto& p : pending_) earliest(d, p.waiting ? p.deadline : session::Time{});
    for (const auto& [id, n] : nodes_)
        if (n.online) earliest(d, n.last_seen + kOfflineAfter);
    return d;
}

void Node::tick(session::Time now) {
    if (!started_) started_ = next_status_ = now;
    if (next_status_ && now >= *next_status_) {
        NodeStatus s;
        s.uptime_s = static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now - *started_).count());
        send(Kind::message, NodeStatus::id, 0, s.encode(), NodeStatus::signature, priority::low);
        next_status_ = *next_status_ + kStatusPeriod;
        if (*next_status_ <= now) next_status_ = now + kStatusPeriod;  // a stalled caller: no burst of old ones
    }
    if (esc_command_ && esc_due_ && now >= *esc_due_) {
        EscRawCommand c;
        c.cmd = *esc_command_;
        send(Kind::message, EscRawCommand::id, 0, c.encode(), EscRawCommand::signature, priority::high);
        esc_due_ = *esc_due_ + esc_period_;
        if (*esc_due_ <= now) esc_due_ = now + esc_period_;  // late: one command now, not a burst
    }
    for (auto& [id, n] : nodes_)
        if (n.online && now - n.last_seen >= kOfflineAfter) {
            n.online = false;
            notes_.push_back(fmt::format("event=node_offline node={} silent_ms={}", id, kOfflineAfter.count()));
        }
    std::vector<std::pair<session::RequestId, Error>> failed;
    for (auto& p : pending_) {
        if (p.waiting && now >= p.deadline) {
            if (p.sent >= p.policy.attempts)
                failed.emplace_back(p.id, make_error(Errc::timeout, fmt::format("node {} did not answer GetNodeInfo within {} ms ({} attempt{})", p.node,
                                                                                p.policy.timeout.count(), p.sent, p.sent == 1 ? "" : "s")));
            else
                p.waiting = false;  // sent again by transmit()
        }
    }
    for (auto& [id, e] : failed) finish(id, e);
}

std::optional<CanFrame> Node::transmit(session::Time now) {
    if (!started_) tick(now);
    for (auto& p : pending_) {
        if (p.waiting) continue;
        // A retry keeps its transfer id, so a late first answer still matches.
        if (p.sent == 0) p.transfer_id = next_transfer_id(Kind::request, GetNodeInfo::id, p.node);
        send(Kind::request, GetNodeInfo::id, p.node, {}, GetNodeInfo::signature, priority::medium, p.transfer_id);
        ++p.sent;
        p.waiting = true;
        p.deadline = now + p.policy.timeout;
    }
    if (out_.empty()) return std::nullopt;
    auto f = std::move(out_.front());
    out_.pop_front();
    return f;
}

std::optional<session::Done> Node::completed() {
    if (done_.empty()) return std::nullopt;
    auto d = std::move(done_.front());
    done_.pop_front();
    return d;
}

void Node::link_lost(const Error& why) {
    while (!pending_.empty()) finish(pending_.front().id, why);
    esc_command_.reset();
    esc_due_.reset();
    out_.clear();
}

void Node::cancel(session::RequestId id) {
    std::erase_if(pending_, [id](const Pending& p) { return p.id == id; });
    std::erase_if(done_, [id](const session::Done& d) { return d.id == id; });
}

std::optional<std::string> Node::note() {
    if (notes_.empty()) return std::nullopt;
    auto n = std::move(notes_.front());
    notes_.pop_front();
    return n;
}

}  // namespace rig::dronecan
