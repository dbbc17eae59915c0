// A Betaflight/INAV flight controller over MSP, behind the FlightController capability.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "protocols/msp/client.hpp"
#include "protocols/msp/messages.hpp"
#include "rig/devices/capabilities.hpp"
#include "rig/io/pump.hpp"

namespace rig::devices {

// How long one MSP request waits for its reply, and how often it is sent in all.
struct MspTiming {
    std::chrono::milliseconds timeout{250};
    int attempts = 3;
};

// MSP_RAW_IMU carries sensor counts; their scale is the board's (reference/protocols.md §2.8),
// so it comes from the jig file's [devices.fc] section.
struct MspScaling {
    double acc_1g = 2048;               // counts per g
    double gyro_counts_per_dps = 16.384;
    double mag_counts_per_mgauss = 0;   // 0: the board's magnetometer scale is unknown
};

// Betaflight drives the drone's VTX (SmartAudio, Tramp, RTC6705, MSP) and answers for it over
// MSP, so the same driver is its VideoTransmitter.
class FcMsp final : public FlightController, public VideoTransmitter {
public:
    using Timing = MspTiming;
    using Log = std::function<void(const std::string&)>;

    FcMsp(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const RunControl& control, MspScaling scaling = {}, Log log = {});

    template <class T>
    asio::awaitable<Result<T>> get(Timing timing = Timing{}) {
        auto payload = co_await call(T::command, Bytes{}, timing, false);
        if (!payload) co_return payload.error();
        auto v = T::decode(*payload);
        if (!v) co_return make_error(v.error().code, port() + ": " + v.error().message);
        co_return v;
    }

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
    int max_motors() const override { return static_cast<int>(msp::kMaxMotors); }
    asio::awaitable<Result<VtxState>> vtx_state() override;
    asio::awaitable<Result<void>> set_vtx(int band, int channel, int power_index, bool pit_mode) override;
    asio::awaitable<Result<void>> vtx_safe() override;
    const msp::DropCounters& dropped() const { return client_.dropped(); }

private:
    asio::awaitable<Result<Bytes>> call(std::uint16_t command, Bytes payload, Timing timing, bool ignore_control);
    asio::awaitable<Result<void>> set_motors(const msp::SetMotor& m, bool ignore_control);
    const RunControl& control_;
    MspScaling scaling_;
    bool vtx_changed_ = false;  // set_vtx since the last vtx_safe
    msp::Client client_;
    io::Pump pump_;  // after client_: destroyed first
};

}  // namespace rig::devices
