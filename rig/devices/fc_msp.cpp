#include "rig/devices/fc_msp.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "protocols/common/sha256.hpp"
#include "protocols/msp/commands.hpp"
#include "protocols/msp/telemetry.hpp"

namespace rig::devices {

namespace {
constexpr MspTiming kBootPoll{std::chrono::milliseconds(40), 1};  // Betaflight answers in ~10 ms once up
}

FcMsp::FcMsp(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const RunControl& control, MspScaling scaling, Log log)
    : control_(control), scaling_(scaling), pump_(ex, std::move(stream), client_, std::move(log)) {}

asio::awaitable<Result<Bytes>> FcMsp::call(std::uint16_t command, Bytes payload, Timing timing, bool ignore_control) {
    auto timeout = timing.timeout;
    if (!ignore_control) {
        auto b = control_.budget(timing.timeout);
        if (!b) co_return b.error();
        timeout = *b;
    }
    const auto id = client_.request(command, std::move(payload), {timeout, timing.attempts});
    auto reply = co_await pump_.wait(id);
    if (!reply && reply.error().code != Errc::io_error) co_return make_error(reply.error().code, port() + ": " + reply.error().message);
    co_return reply;
}

asio::awaitable<Result<void>> FcMsp::wait_ready() {
    // Booting right after DUT power-on: ask often, with a short wait each, until it answers or
    // the step's deadline passes. A long per-request timeout would waste the boot budget.
    for (;;) {
        auto api = co_await get<msp::ApiVersion>(kBootPoll);
        if (api) co_return Result<void>{};
        if (api.error().code != Errc::timeout) co_return api.error();
        if (auto b = control_.budget(std::chrono::milliseconds(1)); !b)
            co_return make_error(Errc::timeout, fmt::format("{}: flight controller did not answer after power-on", port()));
    }
}

asio::awaitable<Result<FcIdentity>> FcMsp::identity() {
    auto api = co_await get<msp::ApiVersion>();
    if (!api) co_return api.error();
    auto variant = co_await get<msp::FcVariant>();
    if (!variant) co_return variant.error();
    auto version = co_await get<msp::FcVersion>();
    if (!version) co_return version.error();
    auto board = co_await get<msp::BoardInfo>();
    if (!board) co_return board.error();
    auto uid = co_await get<msp::Uid>();
    if (!uid) co_return uid.error();
    FcIdentity id;
    id.family = variant->identifier;
    id.firmware = version->text();
    id.board = board->board_id;
    id.uid = uid->hex();
    id.protocol_version = api->major + api->minor / 100.0;
    // BOARD_INFO's problem bits (bit0: accelerometer needs calibration, bit1: motor protocol
    // disabled): a unit that leaves the line with either set flies badly or not at all.
    id.config_problems = static_cast<double>(board->configuration_problems);
    co_return id;
}

asio::awaitable<Result<Battery>> FcMsp::battery() {
    auto a = co_await get<msp::Analog>();
    if (!a) co_return a.error();
    co_return Battery{a->vbat_v, a->current_a};
}

asio::awaitable<Result<ImuSample>> FcMsp::imu() {
    auto raw = co_await get<msp::RawImu>();
    if (!raw) co_return raw.error();
    ImuSample s;
    for (int a = 0; a < 3; ++a) {
        s.acc_g[a] = raw->acc[a] / scaling_.acc_1g;
        s.gyro_dps[a] = raw->gyro[a] / scaling_.gyro_counts_per_dps;
    }
    co_return s;
}

asio::awaitable<Result<BaroSample>> FcMsp::barometer() {
    // Betaflight's MSP reports only the estimated altitude (MSP_ALTITUDE), never a pressure.
    co_return make_error(Errc::invalid_argument, port() + ": MSP has no barometer pressure message (Betaflight sends only MSP_ALTITUDE)");
}

asio::awaitable<Result<MagSample>> FcMsp::magnetometer() {
    if (!(scaling_.mag_counts_per_mgauss > 0))
        co_return make_error(Errc::invalid_argument, port() + ": MSP_RAW_IMU magnetometer counts need mag_counts_per_mgauss in the jig file's [devices.fc]");
    auto raw = co_await get<msp::RawImu>();
    if (!raw) co_return raw.error();
    MagSample m;
    for (int a = 0; a < 3; ++a) m.field_mgauss[a] = raw->mag[a] / scaling_.mag_counts_per_mgauss;
    co_return m;
}

asio::awaitable<Result<RcInput>> FcMsp::rc_input() {
    auto rc = co_await get<msp::Rc>();
    if (!rc) co_return rc.error();
    auto status = co_await get<msp::StatusEx>();
    if (!status) co_return status.error();
    if (status->arming_disable_count <= 2)
        co_return make_error(Errc::protocol_error, fmt::format("{}: MSP_STATUS_EX reports {} arming-disable flags: no RX_FAILSAFE flag to read",
                                                               port(), status->arming_disable_count));
    RcInput in;
    for (auto us : rc->channels_us) in.channels_us.push_back(us);
    in.failsafe = (status->arming_disable_flags & msp::arming::rx_failsafe) != 0;
    co_return in;
}

asio::awaitable<Result<void>> FcMsp::check_motor_telemetry() {
    // Without bidirectional DShot or an ESC sensor, Betaflight answers MOTOR_TELEMETRY with
    // zeros: that is no measurement, and recording "rpm 0" would blame the motor.
    auto config = co_await get<msp::MotorConfig>();
    if (!config) co_return config.error();
    if (config->has_telemetry_fields && !config->telemetry_source())
        co_return make_error(Errc::invalid_argument,
                             fmt::format("{}: no motor telemetry source: the flight controller reports use_dshot_telemetry 0 and esc_sensor 0 "
                                         "(MSP_MOTOR_CONFIG); enable bidirectional DShot (set dshot_bidir = ON) or the ESC sensor feature",
                                         port()));
    co_return Result<void>{};
}

asio::awaitable<Result<void>> FcMsp::set_motors(const msp::SetMotor& m, bool ignore_control) {
    auto r = co_await call(msp::cmd::set_motor, m.encode(), Timing{}, ignore_control);
    if (!r) co_return r.error();
    co_return Result<void>{};
}

asio::awaitable<Result<void>> FcMsp::spin_motor(int motor, double throttle_pct) {
    if (motor < 0 || motor >= max_motors() || !(throttle_pct >= 0 && throttle_pct <= 100))
        co_return make_error(Errc::invalid_argument, fmt::format("{}: motor {} at {} % is outside 1..{} and 0..100 %", port(), motor + 1, throttle_pct, max_motors()));
    auto set = msp::SetMotor::all_stopped();
    set.value[motor] = static_cast<std::uint16_t>(msp::kMotorStop + std::lround(throttle_pct * 10.0));
    co_return co_await set_motors(set, false);
}

asio::awaitable<Result<MotorSample>> FcMsp::motor_telemetry(int motor) {
    auto t = co_await get<msp::MotorTelemetry>();
    if (!t) co_return t.error();
    if (motor < 0 || static_cast<int>(t->motors.size()) <= motor)
        co_return make_error(Errc::protocol_error, fmt::format("{}: motor telemetry reports {} motors, motor {} asked", port(), t->motors.size(), motor + 1));
    const auto& m = t->motors[motor];
    // invalid_pct 100 % is Betaflight's "no valid telemetry packet yet": not a reading.
    if (m.invalid_pct >= 100.0)
        co_return make_error(Errc::protocol_error, fmt::format("{}: motor {} telemetry is silent (MSP_MOTOR_TELEMETRY invalid 100 %): check "
                                                               "bidirectional DShot on this ESC", port(), motor + 1));
    co_return MotorSample{static_cast<double>(m.rpm), m.current_a, m.voltage_v, static_cast<double>(m.temperature_c)};
}

asio::awaitable<Result<void>> FcMsp::stop_motors() { co_return co_await set_motors(msp::SetMotor::all_stopped(), true); }

asio::awaitable<Result<ConfigSnapshot>> FcMsp::config() {
    // MSP has no parameter list; the configuration that decides how the drone flies is read
    // through its settings messages, and each reply's bytes become one line of the snapshot.
    static constexpr std::pair<const char*, std::uint16_t> kSettings[] = {
        {"MSP_FEATURE_CONFIG", 36}, {"MSP_MIXER_CONFIG", 42}, {"MSP_RX_CONFIG", 44},     {"MSP_FAILSAFE_CONFIG", 75},
        {"MSP_RC_TUNING", 111},     {"MSP_PID", 112},         {"MSP_MOTOR_CONFIG", 131}, {"MSP_SENSOR_ALIGNMENT", 126},
    };
    std::vector<std::string> lines;
    for (const auto& [name, command] : kSettings) {
        auto payload = co_await call(command, Bytes{}, Timing{}, false);
        if (!payload) co_return payload.error();
        lines.push_back(fmt::format("{}={}", name, hex_string(*payload)));
    }
    std::sort(lines.begin(), lines.end());
    ConfigSnapshot s;
    s.entries = lines.size();
    for (const auto& l : lines) s.canonical += l + "\n";
    s.sha256 = sha256_hex(s.canonical);
    co_return s;
}

asio::awaitable<Result<void>> FcMsp::reboot() {
    const auto f = msp::reboot();
    auto r = co_await call(f.command, f.payload, Timing{}, false);
    if (!r) co_return r.error();
    co_return Result<void>{};
}

namespace {
// vtxDevType_e (Betaflight src/main/drivers/vtx_common.h)
std::string vtx_device_name(std::uint8_t type) {
    switch (type) {
    case 0: return "none";
    case 1: return "RTC6705";
    case 3: return "SmartAudio";
    case 4: return "Tramp";
    case 5: return "MSP";
    default: return "unknown";
    }
}
}  // namespace

asio::awaitable<Result<VtxState>> FcMsp::vtx_state() {
    auto c = co_await get<msp::VtxConfig>();
    if (!c) co_return c.error();
    VtxState v;
    v.device = vtx_device_name(c->device_type);
    v.band = c->band;
    v.channel = c->channel;
    v.power_index = c->power_index;
    v.frequency_mhz = c->frequency_mhz;
    v.pit_mode = c->pit_mode != 0;
    v.ready = c->device_ready != 0;
    v.power_levels = c->table_available ? c->table_power_levels : 0;
    co_return v;
}

asio::awaitable<Result<void>> FcMsp::set_vtx(int band, int channel, int power_index, bool pit_mode) {
    if (band < 1 || band > 8 || channel < 1 || channel > 8 || power_index < 1 || power_index > 255)
        co_return make_error(Errc::invalid_argument, fmt::format("{}: VTX band {} channel {} power {} outside MSP's band/channel code", port(), band,
                                                                 channel, power_index));
    vtx_changed_ = true;
    msp::SetVtxConfig set{static_cast<std::uint8_t>(band), static_cast<std::uint8_t>(channel), 0, static_cast<std::uint8_t>(power_index),
                          static_cast<std::uint8_t>(pit_mode ? 1 : 0)};
    auto r = co_await call(msp::SetVtxConfig::command, set.encode(), Timing{}, false);
    if (!r) co_return r.error();
    co_return Result<void>{};
}

asio::awaitable<Result<void>> FcMsp::vtx_safe() {
    if (!vtx_changed_) co_return Result<void>{};
    // Lowest power and pit mode on the channel it is on (a SET_VTX_CONFIG always names one).
    auto c = co_await call(msp::VtxConfig::command, Bytes{}, Timing{}, true);
    if (!c) co_return c.error();
    auto now = msp::VtxConfig::decode(*c);
    if (!now) co_return make_error(now.error().code, port() + ": " + now.error().message);
    msp::SetVtxConfig set{now->band, now->channel, now->band ? std::uint16_t{0} : now->frequency_mhz, 1, 1};
    if (!now->band && !now->frequency_mhz) set.band = set.channel = 1;
    auto r = co_await call(msp::SetVtxConfig::command, set.encode(), Timing{}, true);
    if (!r) co_return r.error();
    vtx_changed_ = false;
    co_return Result<void>{};
}

}  // namespace rig::devices
