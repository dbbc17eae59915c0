// The WebSocket fan-out: every nest event, serialised once, handed to every subscriber (the
// server's WebSocket sessions, each with its own bounded queue). On the io thread. No Asio.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rig::api {

class EventHub {
public:
    using Message = std::shared_ptr<const std::string>;
    using Subscriber = std::function<void(const Message&)>;
    std::uint64_t subscribe(Subscriber s) {
        subscribers_.emplace(++next_, std::move(s));
        return next_;
    }
    void unsubscribe(std::uint64_t id) { subscribers_.erase(id); }
    void publish(std::string json) {
        if (subscribers_.empty()) return;
        auto m = std::make_shared<const std::string>(std::move(json));
        // A subscriber may unsubscribe itself (a client too slow): iterate over a copy of the ids.
        std::vector<std::uint64_t> ids;
        ids.reserve(subscribers_.size());
        for (const auto& [id, s] : subscribers_) ids.push_back(id);
        for (auto id : ids)
            if (auto it = subscribers_.find(id); it != subscribers_.end()) it->second(m);
    }
    std::size_t size() const { return subscribers_.size(); }
    // The first message a new subscriber gets: every nest as it is now.
    std::function<std::string()> snapshot;

private:
    std::map<std::uint64_t, Subscriber> subscribers_;
    std::uint64_t next_ = 0;
};

}  // namespace rig::api
