#include "rig/devices/esc_dronecan.hpp"

#include <cmath>
#include <fmt/format.h>
#include <utility>

namespace rig::devices {

using namespace std::chrono;

namespace {

constexpr milliseconds kCommandPeriod{10};  // esc.RawCommand at 100 Hz
constexpr session::Policy kNodeInfoPolicy{milliseconds(300), 3};

const char* health_name(dronecan::NodeStatus::Health h) {
    switch (h) {
    case dronecan::NodeStatus::Health::ok: return "OK";
    case dronecan::NodeStatus::Health::warning: return "WARNING";
    case dronecan::NodeStatus::Health::error: return "ERROR";
    case dronecan::NodeStatus::Health::critical: return "CRITICAL";
    }
    return "?";
}

std::string mode_name(dronecan::NodeStatus::Mode m) {
    switch (m) {
    case dronecan::NodeStatus::Mode::operational: return "OPERATIONAL";
    case dronecan::NodeStatus::Mode::initialization: return "INITIALIZATION";
    case dronecan::NodeStatus::Mode::maintenance: return "MAINTENANCE";
    case dronecan::NodeStatus::Mode::software_update: return "SOFTWARE_UPDATE";
    case dronecan::NodeStatus::Mode::offline: return "OFFLINE";
    }
    return fmt::format("MODE_{}", static_cast<int>(m));
}

}  // namespace

EscDronecan::EscDronecan(std::string uri, std::uint8_t node_id, const RunControl& control)
    : uri_(std::move(uri)), control_(control), node_(node_id) {}

asio::awaitable<Result<std::unique_ptr<EscDronecan>>> EscDronecan::open(asio::any_io_executor ex, const std::string& uri, std::uint8_t node_id,
                                                                        const RunControl& control, Log log) {
    std::unique_ptr<EscDronecan> self;
    try {
        self = std::make_unique<EscDronecan>(uri, node_id, control);
    } catch (const std::invalid_argument& e) {
        co_return make_error(Errc::invalid_argument, fmt::format("{}: {}", uri, e.what()));
    }
    auto bus = co_await io::open_can(ex, uri, self->node_, std::move(log));
    if (!bus) co_return bus.error();
    self->bus_ = std::move(*bus);
    co_return self;
}

Result<void> EscDronecan::usable() const {
    if (!bus_) return make_error(Errc::io_error, uri_ + ": bus not open");
    if (!bus_->lost().empty()) return make_error(Errc::io_error, bus_->lost());
    if (node_.clash()) return make_error(Errc::protocol_error, fmt::format("{}: {}", uri_, *node_.clash()));
    return {};
}

Result<std::vector<CanNodeStatus>> EscDronecan::nodes_heard_since(Clock::time_point since) const {
    if (auto ok = usable(); !ok) return ok.error();
    std::vector<CanNodeStatus> out;
    for (const auto& [id, n] : node_.nodes()) {
        if (n.last_seen < since) continue;
        out.push_back({id, health_name(n.status.health), mode_name(n.status.mode), static_cast<double>(n.status.uptime_s)});
    }
    return out;
}

asio::awaitable<Result<CanNodeInfo>> EscDronecan::node_info(int node) {
    if (auto ok = usable(); !ok) co_return ok.error();
    if (node < 1 || node > 127) co_return make_error(Errc::invalid_argument, fmt::format("{}: node id {} outside 1..127", uri_, node));
    auto policy = kNodeInfoPolicy;
    auto budget = control_.budget(policy.timeout * policy.attempts);
    if (!budget) co_return budget.error();
    policy.timeout = std::max(milliseconds(1), *budget / policy.attempts);
    const auto id = node_.get_node_info(static_cast<std::uint8_t>(node), policy, steady_clock::now());
    bus_->kick();
    auto payload = co_await bus_->wait(id);
    if (!payload) co_return make_error(payload.error().code, fmt::format("{}: {}", uri_, payload.error().message));
    auto r = dronecan::GetNodeInfo::Response::decode(*payload);
    if (!r) co_return make_error(r.error().code, fmt::format("{}: node {}: GetNodeInfo: {}", uri_, node, r.error().message));
    CanNodeInfo info;
    info.node = node;
    info.name = r->name;
    info.software = fmt::format("{}.{}", r->sw_major, r->sw_minor);
    if (r->sw_flags & 1) info.vcs_commit = fmt::format("{:08x}", r->vcs_commit);
    info.hardware = fmt::format("{}.{}", r->hw_major, r->hw_minor);
    for (auto b : r->unique_id) info.unique_id += fmt::format("{:02x}", b);
    co_return info;
}

asio::awaitable<Result<void>> EscDronecan::spin(int esc, double throttle_pct) {
    if (auto ok = usable(); !ok) co_return ok.error();
    if (esc < 0 || esc >= 20) co_return make_error(Errc::invalid_argument, fmt::format("{}: ESC index {} outside 0..19", uri_, esc));
    if (!(throttle_pct >= 0 && throttle_pct <= 100))
        co_return make_error(Errc::invalid_argument, fmt::format("{}: throttle {} % outside 0..100", uri_, throttle_pct));
    if (auto b = control_.budget(milliseconds(1)); !b) co_return b.error();
    // One command slot per ESC the bus has: a slot left out would leave that ESC without commands.
    for (int i = 0; i < 20; ++i)
        if (node_.esc(static_cast<std::uint8_t>(i))) escs_ = std::max(escs_, i + 1);
    escs_ = std::max(escs_, esc + 1);
    std::vector<std::int16_t> cmd(static_cast<std::size_t>(escs_), 0);
    cmd[static_cast<std::size_t>(esc)] = static_cast<std::int16_t>(std::lround(throttle_pct / 100.0 * dronecan::EscRawCommand::kMax));
    node_.stream_esc(std::move(cmd), kCommandPeriod, steady_clock::now());
    commanded_ = true;
    bus_->kick();
    co_return Result<void>{};
}

Result<EscSample> EscDronecan::esc_status(int esc, milliseconds max_age) const {
    if (auto ok = usable(); !ok) return ok.error();
    auto r = node_.esc(static_cast<std::uint8_t>(esc));
    const auto now = steady_clock::now();
    if (!r || now - r->at > max_age)
        return make_error(Errc::timeout, fmt::format("{}: no esc.Status from ESC {} within {} ms", uri_, esc + 1, max_age.count()));
    const auto& s = r->status;
    return EscSample{static_cast<double>(s.rpm), s.current_a, s.voltage_v, s.temperature_k - 273.15, static_cast<double>(s.error_count), r->node};
}

asio::awaitable<Result<void>> EscDronecan::stop() {
    if (!bus_) co_return Result<void>{};
    const bool was_commanding = std::exchange(commanded_, false);
    node_.stop_esc(steady_clock::now());
    bus_->kick();
    if (was_commanding && !bus_->lost().empty())
        co_return make_error(Errc::io_error, fmt::format("{}: zero command not sent ({}); the ESCs stop by their own command timeout", uri_,
                                                         bus_->lost()));
    co_return Result<void>{};
}

}  // namespace rig::devices
