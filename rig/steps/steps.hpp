// The step library: each step is a coroutine over the station's capabilities (never a
// protocol) with typed params, written once for every flight controller.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "rig/devices/capabilities.hpp"
#include "rig/sequencer/sequencer.hpp"

namespace rig::steps {

namespace asio = boost::asio;

struct DutIdentity {
    std::string firmware, board, uid;
};

struct Context {
    devices::SupplyMeter& supply;
    devices::FlightController& fc;
    devices::RadioTransmitter* radio;  // null when the jig has no reference transmitter
    devices::RunControl& control;
    DutIdentity dut;

    // A physical dwell from the plan: ends early with an error on abort or step timeout.
    asio::awaitable<Result<void>> sleep(std::chrono::milliseconds d);
};

// Every step kind of plan::catalogue(), bound to one station's context.
sequencer::Registry make_registry(Context& ctx);

using StepResult = asio::awaitable<Result<sequencer::StepOutput>>;
StepResult fc_identity(Context& ctx, const plan::StepSpec& spec);
StepResult fc_config(Context& ctx, const plan::StepSpec& spec);
StepResult idle_current(Context& ctx, const plan::StepSpec& spec);
StepResult vbat_accuracy(Context& ctx, const plan::StepSpec& spec);
StepResult imu_static(Context& ctx, const plan::StepSpec& spec);
StepResult baro_static(Context& ctx, const plan::StepSpec& spec);
StepResult mag_static(Context& ctx, const plan::StepSpec& spec);
StepResult motors_spin(Context& ctx, const plan::StepSpec& spec);
StepResult radio_link(Context& ctx, const plan::StepSpec& spec);
StepResult radio_failsafe(Context& ctx, const plan::StepSpec& spec);

// Pure arithmetic of the steps, exposed for unit tests.
struct Stats {
    double mean = 0, stddev = 0, min = 0, max = 0;
};
Stats stats(const std::vector<double>& v);
double spread_pct(const std::vector<double>& v);  // (max - min) / mean * 100
// An integer param checked against its range (the plan loader checked it too).
int count_param(const plan::StepSpec& spec, const char* name, int lo, int hi);
// The plan's RC test pattern: channel i gets the i-th value of `pattern_us` (µs).
std::vector<double> rc_pattern(int channels);

}  // namespace rig::steps
