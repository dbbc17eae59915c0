// The station's safe state: what runs after every step (streams and motors stopped, the jig
// asked) and on every way out of a unit (motors stopped, DUT power and the bench supply off).
#pragma once
#include <functional>

#include "rig/devices/capabilities.hpp"
#include "rig/devices/jig.hpp"
#include "rig/sequencer/sequencer.hpp"

namespace rig::station {

namespace asio = boost::asio;

using StatusHandler = std::function<void(const Result<devices::JigStatus>&)>;

class StationSafeState final : public sequencer::SafeState {
public:
    StationSafeState(devices::Jig& jig, devices::FlightController* fc, devices::RadioTransmitter* radio, devices::EscBus* esc,
                     devices::PowerSupply* psu, StatusHandler on_status);
    asio::awaitable<Result<void>> after_step() override;
    asio::awaitable<Result<void>> make_safe() override;

private:
    devices::Jig& jig_;
    devices::FlightController* fc_;
    devices::VideoTransmitter* vtx_;
    devices::RadioTransmitter* radio_;
    devices::EscBus* esc_;
    devices::PowerSupply* psu_;
    StatusHandler on_status_;
    bool fc_unresponsive_ = false;
};

}  // namespace rig::station
