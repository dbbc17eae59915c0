#include "protocols/mavlink/messages.hpp"

namespace rig::mavlink {

namespace {
constexpr MessageInfo kTable[] = {
    Heartbeat::info,    SysStatus::info,   ParamRequestRead::info, ParamValue::info,   ParamSet::info,         GpsRawInt::info,
    ScaledImu::info,    RawImu::info,      ScaledPressure::info,   Attitude::info,     CommandLong::info,      CommandAck::info,
    RadioStatus::info,  BatteryStatus::info, AutopilotVersion::info, StatusText::info, EscInfo::info,          EscStatus::info,
};
}  // namespace

const MessageInfo* find_message(std::uint32_t id) {
    for (const auto& m : kTable)
        if (m.id == id) return &m;
    return nullptr;
}

CommandLong motor_test(Target t, int motor, MotorTestThrottle type, float value, float timeout_s, int count) {
    CommandLong c;
    c.command = cmd::do_motor_test;
    c.target_system = t.system;
    c.target_component = t.component;
    c.param = {static_cast<float>(motor), static_cast<float>(type), value, timeout_s, static_cast<float>(count), 0, 0};
    return c;
}

CommandLong request_message(Target t, std::uint32_t id) {
    CommandLong c;
    c.command = cmd::request_message;
    c.target_system = t.system;
    c.target_component = t.component;
    c.param[0] = static_cast<float>(id);
    return c;
}

CommandLong calibrate_accelerometer(Target t, int mode) {
    CommandLong c;
    c.command = cmd::preflight_calibration;
    c.target_system = t.system;
    c.target_component = t.component;
    c.param[4] = static_cast<float>(mode);
    return c;
}

CommandLong calibrate_gyro(Target t) {
    CommandLong c;
    c.command = cmd::preflight_calibration;
    c.target_system = t.system;
    c.target_component = t.component;
    c.param[0] = 1;
    return c;
}

CommandLong reboot(Target t, int autopilot_action) {
    CommandLong c;
    c.command = cmd::preflight_reboot_shutdown;
    c.target_system = t.system;
    c.target_component = t.component;
    c.param[0] = static_cast<float>(autopilot_action);
    return c;
}

bool acknowledges(const CommandAck& ack, const CommandLong& command) { return ack.command == command.command; }

}  // namespace rig::mavlink
