// The jig's reference transmitter: an ExpressLRS (CRSF) TX module on a serial port at
// 420,000 baud, fed by rig as its handset, behind the RadioTransmitter capability.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "protocols/crsf/handset.hpp"
#include "rig/devices/capabilities.hpp"
#include "rig/io/pump.hpp"

namespace rig::devices {

class CrsfTransmitter final : public RadioTransmitter {
public:
    using Log = std::function<void(const std::string&)>;
    CrsfTransmitter(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, Log log = {});

    const std::string& port() const override { return pump_.name(); }
    asio::awaitable<Result<void>> stream(std::vector<double> channels_us) override;
    void stop_stream() override;
    asio::awaitable<Result<LinkStats>> link_statistics(std::chrono::milliseconds max_age) override;
    asio::awaitable<Result<ReceiverInfo>> receiver_info() override;

private:
    crsf::Handset handset_;
    io::Pump pump_;  // after handset_: destroyed first
};

}  // namespace rig::devices
