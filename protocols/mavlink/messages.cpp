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

bool acknowledges(const CommandAck& ack, const CommandLong& command) { return ack.command == command.command; }

}  // namespace rig::mavlink
