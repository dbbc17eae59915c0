#include "rig/station/safe_state.hpp"

namespace rig::station {

StationSafeState::StationSafeState(devices::Jig& jig, devices::FlightController* fc, devices::RadioTransmitter* radio, devices::EscBus* esc,
                                   devices::PowerSupply* psu, StatusHandler on_status)
    : jig_(jig), fc_(fc), vtx_(dynamic_cast<devices::VideoTransmitter*>(fc)), radio_(radio), esc_(esc), psu_(psu), on_status_(std::move(on_status)) {}

asio::awaitable<Result<void>> StationSafeState::after_step() {
    if (radio_) radio_->stop_stream();
    // rig's own ESC command stream ends first: nothing below may wait behind it.
    Result<void> esc_stopped;
    if (esc_) esc_stopped = co_await esc_->stop();
    // Ask the jig first: when the lid opened or power was cut, the FC's USB port vanishes at
    // once and the step fails on a lost port before the next heartbeat would tell why. The
    // jig's word turns that failure into the abort it is.
    auto status = co_await jig_.heartbeat();
    on_status_(status);
    if (!fc_) co_return esc_stopped;
    auto r = co_await fc_->stop_motors();
    if (!r) fc_unresponsive_ = true;
    // A VTX a step left at full power heats up in the closed jig: lowest power, pit mode.
    if (vtx_ && r)
        if (auto v = co_await vtx_->vtx_safe(); !v) r = make_error(v.error().code, "VTX not back to pit mode: " + v.error().message);
    if (!esc_stopped) co_return esc_stopped;
    co_return r;
}

asio::awaitable<Result<void>> StationSafeState::make_safe() {
    // Cutting DUT power stops the motors too, so it is the action that must never be skipped.
    // With a responsive FC the motors are stopped first (a gentler stop); with an FC that
    // already failed to stop them, power goes off at once rather than after more retries.
    std::string problems;
    if (radio_) radio_->stop_stream();
    if (esc_)
        if (auto r = co_await esc_->stop(); !r) problems = "ESCs: " + r.error().message;
    if (fc_ && !fc_unresponsive_) {
        if (auto r = co_await fc_->stop_motors(); !r) problems += (problems.empty() ? "" : "; ") + std::string("motors: ") + r.error().message;
    }
    auto off = co_await jig_.force_power_off();
    if (!off) problems += (problems.empty() ? "" : "; ") + std::string("DUT power: ") + off.error().message;
    else if (off->dut_power) problems += (problems.empty() ? "" : "; ") + std::string("DUT power still on after SET_DUT_POWER 0");
    // The bench supply behind the jig's switch goes off too: a second break in the DUT's power.
    if (psu_)
        if (auto r = co_await psu_->output(false); !r) problems += (problems.empty() ? "" : "; ") + std::string("bench supply: ") + r.error().message;
    if (!problems.empty()) co_return make_error(Errc::io_error, problems);
    co_return Result<void>{};
}

}  // namespace rig::station
