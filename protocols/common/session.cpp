#include "protocols/common/session.hpp"

#include <algorithm>

namespace rig::session {

RequestId RequestQueue::push(std::uint32_t key, Bytes payload, Policy policy, bool internal) {
    Entry e;
    e.id = next_++ | (internal ? kInternalBit : 0);
    e.policy = policy;
    if (e.policy.attempts < 1) e.policy.attempts = 1;
    e.key = key;
    e.payload = std::move(payload);
    e.internal = internal;
    queue_.push_back(std::move(e));
    return queue_.back().id;
}

RequestQueue::Entry* RequestQueue::to_send(Time now) {
    if (queue_.empty() || queue_.front().waiting) return nullptr;
    Entry& e = queue_.front();
    e.waiting = true;
    ++e.sent;
    e.deadline = now + e.policy.timeout;
    return &e;
}

RequestQueue::Entry* RequestQueue::in_flight() {
    if (queue_.empty() || !queue_.front().waiting) return nullptr;
    return &queue_.front();
}

void RequestQueue::complete(Result<Bytes> reply) {
    if (queue_.empty()) return;
    done_.push_back(Done{queue_.front().id, std::move(reply)});
    queue_.pop_front();
}

bool RequestQueue::expire(Time now, const std::function<Error(const Entry&)>& timeout_error) {
    Entry* e = in_flight();
    if (!e || now < e->deadline) return false;
    if (e->sent < e->policy.attempts) {
        e->waiting = false;  // to_send() sends it again
        return true;
    }
    complete(timeout_error(*e));
    return false;
}

std::optional<Time> RequestQueue::deadline() const {
    if (queue_.empty()) return std::nullopt;
    const Entry& e = queue_.front();
    if (!e.waiting) return Time{};  // due now: something to send
    return e.deadline;
}

void RequestQueue::fail_all(const Error& why) {
    while (!queue_.empty()) {
        done_.push_back(Done{queue_.front().id, why});
        queue_.pop_front();
    }
}

void RequestQueue::cancel(RequestId id) {
    auto it = std::find_if(queue_.begin(), queue_.end(), [id](const Entry& e) { return e.id == id; });
    if (it != queue_.end()) queue_.erase(it);  // a late reply to it is then stale and dropped
    std::erase_if(done_, [id](const Done& d) { return d.id == id; });
}

void RequestQueue::drop_unsent_internal() {
    std::erase_if(queue_, [](const Entry& e) { return e.internal && !e.waiting; });
}

std::optional<Done> RequestQueue::completed() {
    if (done_.empty()) return std::nullopt;
    Done d = std::move(done_.front());
    done_.pop_front();
    return d;
}

}  // namespace rig::session
