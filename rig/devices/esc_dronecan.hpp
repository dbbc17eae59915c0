// DroneCAN ESCs behind the EscBus capability: rig's own DroneCAN node (protocols/dronecan) on a
// CAN bus (rig/io/can: SLCAN or SocketCAN).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "protocols/dronecan/node.hpp"
#include "rig/devices/capabilities.hpp"
#include "rig/io/can.hpp"

namespace rig::devices {

class EscDronecan final : public EscBus {
public:
    using Log = std::function<void(const std::string&)>;
    // Opens the bus with rig's node on it; errors name the port (no adapter, refused bitrate...).
    static asio::awaitable<Result<std::unique_ptr<EscDronecan>>> open(asio::any_io_executor ex, const std::string& uri, std::uint8_t node_id,
                                                                      const RunControl& control, Log log);

    const std::string& port() const override { return uri_; }
    Result<std::vector<CanNodeStatus>> nodes_heard_since(Clock::time_point since) const override;
    asio::awaitable<Result<CanNodeInfo>> node_info(int node) override;
    asio::awaitable<Result<void>> spin(int esc, double throttle_pct) override;
    Result<EscSample> esc_status(int esc, std::chrono::milliseconds max_age) const override;
    asio::awaitable<Result<void>> stop() override;
    // The bus is gone (adapter unplugged): the station opens it again before the next unit.
    bool lost() const { return bus_ && !bus_->lost().empty(); }

    EscDronecan(std::string uri, std::uint8_t node_id, const RunControl& control);

private:
    Result<void> usable() const;

    std::string uri_;
    const RunControl& control_;
    dronecan::Node node_;
    std::unique_ptr<io::CanBus> bus_;  // after node_: destroyed first
    int escs_ = 0;                     // length of the command vector: the highest index spun + 1
    bool commanded_ = false;           // spin() since the last stop()
};

}  // namespace rig::devices
