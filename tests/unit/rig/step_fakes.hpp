// Fake capabilities for the step tests: each answers from a script set by the test, and
// records what it was asked, so a step's logic is checked without rigsim.
#pragma once
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <deque>
#include <set>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <functional>

#include "rig/steps/steps.hpp"

namespace rig::test {

using namespace std::chrono_literals;
namespace asio = boost::asio;

struct FakeFc final : devices::FlightController {
    std::string name = "fake:fc";
    Result<void> ready;
    Result<devices::FcIdentity> id = devices::FcIdentity{"ArduPilot", "4.6.2", "140", "00ab", 2.0, std::nullopt};
    Result<devices::Battery> bat = devices::Battery{16.7, 0.3};
    std::function<Result<devices::ImuSample>()> imu_fn = [] { return devices::ImuSample{{0, 0, 1}, {0.1, 0.1, 0.1}}; };
    std::function<Result<devices::BaroSample>()> baro_fn = [] { return devices::BaroSample{101325, 30}; };
    std::function<Result<devices::MagSample>()> mag_fn = [] { return devices::MagSample{{300, 0, 400}}; };
    std::function<Result<devices::RcInput>()> rc_fn;
    Result<void> telemetry;
    std::function<Result<devices::MotorSample>(int)> motor_fn = [](int m) { return devices::MotorSample{10000.0 + m * 100, 2, 16, 30}; };
    Result<devices::ConfigSnapshot> cfg = devices::ConfigSnapshot{3, "A=1\n", "ab"};
    std::vector<std::string> calls;

    const std::string& port() const override { return name; }
    asio::awaitable<Result<void>> wait_ready() override { co_return ready; }
    asio::awaitable<Result<devices::FcIdentity>> identity() override { co_return id; }
    asio::awaitable<Result<devices::Battery>> battery() override { co_return bat; }
    asio::awaitable<Result<devices::ImuSample>> imu() override { co_return imu_fn(); }
    asio::awaitable<Result<devices::BaroSample>> barometer() override { co_return baro_fn(); }
    asio::awaitable<Result<devices::MagSample>> magnetometer() override { co_return mag_fn(); }
    asio::awaitable<Result<devices::RcInput>> rc_input() override { co_return rc_fn(); }
    asio::awaitable<Result<void>> check_motor_telemetry() override { co_return telemetry; }
    asio::awaitable<Result<void>> spin_motor(int m, double pct) override {
        calls.push_back("spin " + std::to_string(m) + " " + std::to_string(static_cast<int>(pct)));
        co_return Result<void>{};
    }
    asio::awaitable<Result<devices::MotorSample>> motor_telemetry(int m) override { co_return motor_fn(m); }
    asio::awaitable<Result<void>> stop_motors() override {
        calls.push_back("stop");
        co_return Result<void>{};
    }
    asio::awaitable<Result<devices::ConfigSnapshot>> config() override { co_return cfg; }
    asio::awaitable<Result<void>> reboot() override { co_return Result<void>{}; }
    int max_motors() const override { return 4; }
};

struct FakeSupply final : devices::SupplyMeter {
    Result<devices::Supply> s = devices::Supply{16.8, 0.3};
    asio::awaitable<Result<devices::Supply>> read_supply() override { co_return s; }
};

struct FakeRadio final : devices::RadioTransmitter {
    std::string name = "fake:radio";
    std::vector<double> sent;
    bool on = false;
    Result<devices::LinkStats> link = devices::LinkStats{-40, -42, 100, 10, -45, 100, 100};
    Result<devices::ReceiverInfo> rx = devices::ReceiverInfo{"RP3", "3.5.2", "0000abcd"};
    const std::string& port() const override { return name; }
    asio::awaitable<Result<void>> stream(std::vector<double> us) override {
        sent = std::move(us);
        on = true;
        co_return Result<void>{};
    }
    void stop_stream() override { on = false; }
    asio::awaitable<Result<devices::LinkStats>> link_statistics(std::chrono::milliseconds) override { co_return link; }
    asio::awaitable<Result<devices::ReceiverInfo>> receiver_info() override { co_return rx; }
};

struct FakeEsc final : devices::EscBus {
    std::string name = "fake:can";
    std::set<int> online = {10, 20, 21, 22, 23};
    Result<void> bus;  // an error: the bus is lost
    std::map<int, std::string> health;  // default OK
    std::function<Result<devices::EscSample>(int)> status_fn = [](int e) {
        return Result<devices::EscSample>(devices::EscSample{9000.0 + e * 100, 2.0, 16.0, 40.0 + e, 3, 20 + e});
    };
    std::vector<std::string> calls;
    const std::string& port() const override { return name; }
    Result<std::vector<devices::CanNodeStatus>> nodes_heard_since(devices::Clock::time_point) const override {
        if (!bus) return bus.error();
        std::vector<devices::CanNodeStatus> out;
        for (int n : online) out.push_back({n, health.count(n) ? health.at(n) : "OK", "OPERATIONAL", 12});
        return out;
    }
    asio::awaitable<Result<devices::CanNodeInfo>> node_info(int n) override {
        calls.push_back("info " + std::to_string(n));
        co_return devices::CanNodeInfo{n, n == 10 ? "org.ardupilot.cubeorange" : "com.rigsim.esc", n == 10 ? "4.6" : "1.4", "", "2.0",
                                       std::string(30, '0') + std::to_string(n)};
    }
    asio::awaitable<Result<void>> spin(int e, double pct) override {
        calls.push_back("spin " + std::to_string(e) + " " + std::to_string(static_cast<int>(pct)));
        co_return Result<void>{};
    }
    Result<devices::EscSample> esc_status(int e, std::chrono::milliseconds) const override { return status_fn(e); }
    asio::awaitable<Result<void>> stop() override {
        calls.push_back("stop");
        co_return Result<void>{};
    }
};

struct FakePsu final : devices::PowerSupply {
    std::string name = "fake:psu";
    std::vector<std::string> calls;
    std::deque<devices::PsuReading> readings;  // then the last one repeats
    devices::PsuReading last{16.8, 0.3, 16.8, 10, false};
    Result<devices::Inrush> captured = devices::Inrush{2.5, 40, std::chrono::milliseconds(300)};
    std::string tripped;
    const std::string& port() const override { return name; }
    asio::awaitable<Result<void>> output(bool on) override {
        calls.push_back(on ? "on" : "off");
        co_return Result<void>{};
    }
    asio::awaitable<Result<devices::PsuReading>> measure() override {
        if (!readings.empty()) {
            last = readings.front();
            readings.pop_front();
        }
        co_return last;
    }
    asio::awaitable<Result<devices::Inrush>> capture_inrush(std::chrono::milliseconds) override { co_return captured; }
    Result<devices::Inrush> inrush() const override { return captured; }
    asio::awaitable<Result<std::string>> protection_tripped() override { co_return tripped; }
};

struct FakeRf final : devices::RfPowerMeter {
    std::string name = "fake:rf";
    std::vector<double> asked_hz;
    std::function<Result<double>(double)> dbm_at = [](double) { return Result<double>(14.0); };
    const std::string& port() const override { return name; }
    asio::awaitable<Result<double>> read_dbm(double hz) override {
        asked_hz.push_back(hz);
        co_return dbm_at(hz);
    }
};

struct FakeVtx final : devices::VideoTransmitter {
    devices::VtxState state{"SmartAudio", 5, 1, 1, 5658, false, true, 5};
    std::vector<std::string> calls;
    bool ignore_power = false;  // a VTX (or FC) that keeps its power level
    asio::awaitable<Result<devices::VtxState>> vtx_state() override { co_return state; }
    asio::awaitable<Result<void>> set_vtx(int band, int channel, int power, bool pit) override {
        calls.push_back(fmt::format("set {} {} {} {}", band, channel, power, pit));
        state.band = band;
        state.channel = channel;
        if (!ignore_power) state.power_index = power;
        state.pit_mode = pit;
        state.frequency_mhz = 5658 + 37 * (channel - 1);
        co_return Result<void>{};
    }
    asio::awaitable<Result<void>> vtx_safe() override {
        calls.push_back("safe");
        co_return Result<void>{};
    }
};

struct Bench {
    FakeFc fc;
    FakeSupply supply;
    FakeRadio radio;
    FakeEsc esc;
    FakePsu psu;
    FakeRf rf;
    FakeVtx vtx;
    devices::RunControl control;
    steps::Context ctx{supply, fc, &radio, &esc, control, {}, &psu, &rf, &vtx};
};

inline plan::StepSpec spec(std::string kind, std::map<std::string, plan::ParamValue> params) {
    plan::StepSpec s;
    s.id = "s";
    s.kind = std::move(kind);
    s.params = std::move(params);
    return s;
}

inline Result<sequencer::StepOutput> run(steps::StepResult (*step)(steps::Context&, const plan::StepSpec&), steps::Context& ctx, const plan::StepSpec& s) {
    asio::io_context io;
    std::optional<Result<sequencer::StepOutput>> out;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { out.emplace(co_await step(ctx, s)); }, [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
    REQUIRE(out);
    return std::move(*out);
}

inline const sequencer::Measured& find(const sequencer::StepOutput& out, const std::string& name) {
    for (const auto& m : out)
        if (m.name == name) return m;
    FAIL("no measurement " << name);
    throw std::logic_error("unreachable");
}


}  // namespace rig::test
