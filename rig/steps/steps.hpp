// The step library: each step is a coroutine over the station's devices with typed params.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "rig/devices/fc_msp.hpp"
#include "rig/devices/jig.hpp"
#include "rig/sequencer/sequencer.hpp"

namespace rig::steps {

namespace asio = boost::asio;

struct DutIdentity {
    std::string firmware, board, uid;
};

struct Context {
    devices::Jig& jig;
    devices::FcMsp& fc;
    devices::RunControl& control;
    DutIdentity dut;

    // A physical dwell from the plan: ends early with an error on abort or step timeout.
    asio::awaitable<Result<void>> sleep(std::chrono::milliseconds d);
};

// Every step kind of plan::catalogue(), bound to one station's context.
sequencer::Registry make_registry(Context& ctx);

asio::awaitable<Result<sequencer::StepOutput>> fc_identity(Context& ctx, const plan::StepSpec& spec);
asio::awaitable<Result<sequencer::StepOutput>> idle_current(Context& ctx, const plan::StepSpec& spec);
asio::awaitable<Result<sequencer::StepOutput>> vbat_accuracy(Context& ctx, const plan::StepSpec& spec);
asio::awaitable<Result<sequencer::StepOutput>> imu_static(Context& ctx, const plan::StepSpec& spec);
asio::awaitable<Result<sequencer::StepOutput>> motors_spin(Context& ctx, const plan::StepSpec& spec);

// Pure arithmetic of the steps, exposed for unit tests.
struct Stats {
    double mean = 0, stddev = 0, min = 0, max = 0;
};
Stats stats(const std::vector<double>& v);
double spread_pct(const std::vector<double>& v);  // (max - min) / mean * 100

}  // namespace rig::steps
