// Opening a capability by the protocol the jig file names: the one place that maps
// "msp" / "mavlink" / "crsf" to a driver.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "rig/devices/capabilities.hpp"
#include "rig/io/stream.hpp"

namespace rig::devices {

struct FcOptions {
    std::string protocol = "msp";
    double acc_1g = 2048, gyro_counts_per_dps = 16.384, mag_counts_per_mgauss = 0;  // MSP only
};

using Log = std::function<void(const std::string&)>;

std::unique_ptr<FlightController> make_flight_controller(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const RunControl& control,
                                                         const FcOptions& options, Log log);
std::unique_ptr<RadioTransmitter> make_radio(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const std::string& protocol, Log log);

}  // namespace rig::devices
