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
    std::vector<reports::Part> parts;  // sub-units read off the unit (ESCs by unique id)
};

struct Context {
    devices::SupplyMeter& supply;
    devices::FlightController& fc;
    devices::RadioTransmitter* radio;  // null when the jig has no reference transmitter
    devices::EscBus* esc;              // null when the jig has no CAN bus
    devices::RunControl& control;
    DutIdentity dut;
    devices::PowerSupply* psu = nullptr;      // null when the jig has no bench supply
    devices::RfPowerMeter* rf = nullptr;      // null when the jig has no RF power meter
    devices::VideoTransmitter* vtx = nullptr; // null when the FC drives no VTX over its protocol

    // A physical dwell from the plan: ends early with an error on abort or step timeout.
    asio::awaitable<Result<void>> sleep(std::chrono::milliseconds d);
};

using StepResult = asio::awaitable<Result<sequencer::StepOutput>>;
using StepFn = StepResult (*)(Context&, const plan::StepSpec&);

// A step kind: what it accepts and measures, declared beside its code (OpenHTF style), and the
// code. Adding a kind is a definition in its domain file and a line in kinds().
struct StepKind {
    plan::KindSchema schema;
    StepFn run;
};
const std::vector<StepKind>& kinds();
// Their schemas: what the plan loader checks a variant against.
const plan::Catalogue& catalogue();
// Every step kind, bound to one station's context; each run's output is checked against the
// kind's declared measurements.
sequencer::Registry make_registry(Context& ctx);
// A name, limit key, type or unit the kind did not declare is a defect of the step's code: the
// step ends ERROR naming it, and nothing undeclared reaches a certificate.
Result<void> check_declared(const plan::KindSchema& kind, const sequencer::StepOutput& out);

extern const StepKind fc_identity_kind, fc_config_kind, idle_current_kind, vbat_accuracy_kind, imu_static_kind,
    baro_static_kind, mag_static_kind, motors_spin_kind, radio_link_kind, radio_failsafe_kind, can_nodes_kind, esc_spin_kind,
    power_supply_kind, vtx_power_kind;

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
StepResult can_nodes(Context& ctx, const plan::StepSpec& spec);
StepResult esc_spin(Context& ctx, const plan::StepSpec& spec);
StepResult power_supply(Context& ctx, const plan::StepSpec& spec);
StepResult vtx_power(Context& ctx, const plan::StepSpec& spec);

// Pure arithmetic of the steps, exposed for unit tests.
struct Stats {
    double mean = 0, stddev = 0, min = 0, max = 0;
};
Stats stats(const std::vector<double>& v);
double spread_pct(const std::vector<double>& v);  // (max - min) / mean * 100
// An integer param checked against its range (the plan loader checked it too).
int count_param(const plan::StepSpec& spec, const char* name, int lo, int hi);
// A list param written as text ("1,3,5"): every entry a number in lo..hi (whole for ints);
// empty only when `may_be_empty`. Throws std::invalid_argument naming the step and param.
std::vector<int> int_list_param(const plan::StepSpec& spec, const char* name, int lo, int hi, bool may_be_empty = false);
std::vector<double> number_list_param(const plan::StepSpec& spec, const char* name, double lo, double hi);
// The plan's RC test pattern: channel i gets the i-th value of `pattern_us` (µs).
std::vector<double> rc_pattern(int channels);

}  // namespace rig::steps
