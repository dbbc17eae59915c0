#include "protocols/mavlink/messages.hpp"

namespace rig::mavlink {

namespace {
constexpr MessageInfo kTable[] = {
    Heartbeat::info,    SysStatus::info,   ParamRequestRead::info, ParamValue::info,   ParamSet::info,         GpsRawInt::info,
    ScaledImu::info,    RawImu::info,      ScaledPressure::info,   Attitude::info,     CommandLong::info,      CommandAck::info,
    RadioStatus::info,  BatteryStatus::info, AutopilotVersion::info, StatusText::info, EscInfo::info,          EscStatus::info,
    ParamRequestList::info, RcChannels::info, EscTelemetry1To4::info,
};
}  // namespace

const MessageInfo* find_message(std::uint32_t id) {
    // Every frame looks its id up: a direct table for the common ids, a scan for the rest.
    static constexpr auto kDirect = [] {
        std::array<const MessageInfo*, 512> t{};
        for (const auto& m : kTable)
            if (m.id < t.size()) t[m.id] = &m;
        return t;
    }();
    if (id < kDirect.size()) return kDirect[id];
    for (const auto& m : kTable)
        if (m.id == id) return &m;
    return nullptr;
}

namespace {
CommandLong command(Target t, std::uint16_t id, std::array<float, 7> params) {
    CommandLong c;
    c.command = id;
    c.target_system = t.system;
    c.target_component = t.component;
    c.param = params;
    return c;
}
}  // namespace

CommandLong motor_test(Target t, int motor, MotorTestThrottle type, float value, float timeout_s, int count) {
    return command(t, cmd::do_motor_test, {static_cast<float>(motor), static_cast<float>(type), value, timeout_s, static_cast<float>(count), 0, 0});
}

CommandLong request_message(Target t, std::uint32_t id) { return command(t, cmd::request_message, {static_cast<float>(id), 0, 0, 0, 0, 0, 0}); }

CommandLong calibrate_accelerometer(Target t, int mode) {
    return command(t, cmd::preflight_calibration, {0, 0, 0, 0, static_cast<float>(mode), 0, 0});
}

CommandLong calibrate_gyro(Target t) { return command(t, cmd::preflight_calibration, {1, 0, 0, 0, 0, 0, 0}); }

CommandLong reboot(Target t, int autopilot_action) {
    return command(t, cmd::preflight_reboot_shutdown, {static_cast<float>(autopilot_action), 0, 0, 0, 0, 0, 0});
}

CommandLong set_message_interval(Target t, std::uint32_t id, double hz) {
    const float interval_us = hz > 0 ? static_cast<float>(1e6 / hz) : -1.0f;
    return command(t, cmd::set_message_interval, {static_cast<float>(id), interval_us, 0, 0, 0, 0, 0});
}

std::string command_name(std::uint16_t c) {
    const char* name = "MAV_CMD";
    switch (c) {
    case cmd::do_motor_test: name = "MAV_CMD_DO_MOTOR_TEST"; break;
    case cmd::preflight_calibration: name = "MAV_CMD_PREFLIGHT_CALIBRATION"; break;
    case cmd::preflight_reboot_shutdown: name = "MAV_CMD_PREFLIGHT_REBOOT_SHUTDOWN"; break;
    case cmd::set_message_interval: name = "MAV_CMD_SET_MESSAGE_INTERVAL"; break;
    case cmd::request_message: name = "MAV_CMD_REQUEST_MESSAGE"; break;
    default: break;
    }
    return std::string(name) + " (" + std::to_string(c) + ")";
}

const char* result_name(std::uint8_t r) {
    static constexpr const char* kNames[] = {"ACCEPTED", "TEMPORARILY_REJECTED", "DENIED", "UNSUPPORTED", "FAILED", "IN_PROGRESS", "CANCELLED"};
    return r < 7 ? kNames[r] : "unknown MAV_RESULT";
}

bool acknowledges(const CommandAck& ack, const CommandLong& command) { return ack.command == command.command; }

}  // namespace rig::mavlink
