#include "rig/devices/drivers.hpp"

#include <stdexcept>

#include "rig/devices/crsf_tx.hpp"
#include "rig/devices/fc_mavlink.hpp"
#include "rig/devices/fc_msp.hpp"

namespace rig::devices {

std::unique_ptr<FlightController> make_flight_controller(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const RunControl& control,
                                                         const FcOptions& o, Log log) {
    if (o.protocol == "msp")
        return std::make_unique<FcMsp>(ex, std::move(stream), control, MspScaling{o.acc_1g, o.gyro_counts_per_dps, o.mag_counts_per_mgauss}, std::move(log));
    if (o.protocol == "mavlink") return std::make_unique<FcMavlink>(ex, std::move(stream), control, std::move(log));
    throw std::invalid_argument("unknown flight controller protocol '" + o.protocol + "'");  // the jig file loader refused it already
}

std::unique_ptr<RadioTransmitter> make_radio(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const std::string& protocol, Log log) {
    if (protocol == "crsf") return std::make_unique<CrsfTransmitter>(ex, std::move(stream), std::move(log));
    throw std::invalid_argument("unknown radio protocol '" + protocol + "'");
}

}  // namespace rig::devices
