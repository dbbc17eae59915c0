// An ArduPilot or PX4 flight controller over MAVLink 2, behind the FlightController capability.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <map>
#include <memory>

#include "protocols/mavlink/client.hpp"
#include "rig/devices/capabilities.hpp"
#include "rig/io/pump.hpp"

namespace rig::devices {

class FcMavlink final : public FlightController {
public:
    using Log = std::function<void(const std::string&)>;
    // A motor test lapses on its own after this (ArduPilot and PX4 stop the motor): the
    // driver re-sends it every second while the step wants the motor spinning.
    static constexpr float kMotorTestTimeoutS = 3.0f;

    FcMavlink(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const RunControl& control, Log log = {});

    const std::string& port() const override { return pump_.name(); }
    asio::awaitable<Result<void>> wait_ready() override;
    asio::awaitable<Result<FcIdentity>> identity() override;
    asio::awaitable<Result<Battery>> battery() override;
    asio::awaitable<Result<ImuSample>> imu() override;
    asio::awaitable<Result<BaroSample>> barometer() override;
    asio::awaitable<Result<MagSample>> magnetometer() override;
    asio::awaitable<Result<RcInput>> rc_input() override;
    asio::awaitable<Result<void>> check_motor_telemetry() override;
    asio::awaitable<Result<void>> spin_motor(int motor, double throttle_pct) override;
    asio::awaitable<Result<MotorSample>> motor_telemetry(int motor) override;
    asio::awaitable<Result<void>> stop_motors() override;
    asio::awaitable<Result<ConfigSnapshot>> config() override;
    asio::awaitable<Result<void>> reboot() override;
    int max_motors() const override { return 4; }  // ESC_TELEMETRY_1_TO_4 / one ESC_STATUS

private:
    asio::awaitable<Result<Bytes>> command(const mavlink::CommandLong& c, bool ignore_control);
    // The next message `M` from now on, within `timeout` (cut to the step's budget).
    template <class M>
    asio::awaitable<Result<M>> next(std::chrono::milliseconds timeout);
    // Streams a message at `hz` (MAV_CMD_SET_MESSAGE_INTERVAL), once per message id.
    asio::awaitable<Result<void>> stream(std::uint32_t msgid, double hz, bool required = true);
    Result<std::chrono::milliseconds> budget(std::chrono::milliseconds wanted) const;

    const RunControl& control_;
    mavlink::Client client_;
    io::Pump pump_;  // after client_: destroyed first
    // ScaledImu, or RawImu where the autopilot refuses SCALED_IMU (ArduPilot fills RAW_IMU with
    // the same mG, mrad/s and mGauss).
    asio::awaitable<Result<mavlink::ScaledImu>> imu_message();

    std::map<std::uint32_t, bool> streaming_;  // msgid -> the autopilot accepted its interval
    std::optional<int> spinning_;  // the motor under test, 0-based
    std::optional<std::uint32_t> esc_source_;  // ESC_TELEMETRY_1_TO_4 or ESC_STATUS, once found
};

}  // namespace rig::devices
