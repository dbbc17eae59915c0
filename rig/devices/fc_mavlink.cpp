#include "rig/devices/fc_mavlink.hpp"

#include <cmath>
#include <fmt/format.h>
#include <numbers>

#include "protocols/common/sha256.hpp"

namespace rig::devices {

namespace ml = rig::mavlink;
using namespace std::chrono;

namespace {
constexpr session::Policy kCommandPolicy{milliseconds(300), 3};
constexpr auto kSampleWait = milliseconds(500);  // a streamed message at >= 5 Hz is overdue after this
constexpr std::uint16_t kUnknownMv = 0xFFFF;

std::string family(std::uint8_t autopilot) {
    if (autopilot == ml::kAutopilotArdupilot) return "ArduPilot";
    if (autopilot == ml::kAutopilotPx4) return "PX4";
    return fmt::format("MAV_AUTOPILOT {}", autopilot);
}

std::string version_text(std::uint32_t v) {
    const auto type = v & 0xFF;
    const char* suffix = type == 255 ? "" : type >= 192 ? "-rc" : type >= 128 ? "-beta" : type >= 64 ? "-alpha" : "-dev";
    return fmt::format("{}.{}.{}{}", (v >> 24) & 0xFF, (v >> 16) & 0xFF, (v >> 8) & 0xFF, suffix);
}
}  // namespace

FcMavlink::FcMavlink(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const RunControl& control, Log log)
    : control_(control), pump_(ex, std::move(stream), client_, std::move(log)) {}

Result<milliseconds> FcMavlink::budget(milliseconds wanted) const { return control_.budget(wanted); }

asio::awaitable<Result<Bytes>> FcMavlink::command(const ml::CommandLong& c, bool ignore_control) {
    auto policy = kCommandPolicy;
    if (!ignore_control) {
        auto b = budget(policy.timeout);
        if (!b) co_return b.error();
        policy.timeout = *b;
    }
    const auto id = client_.command(c, policy, steady_clock::now());
    auto r = co_await pump_.wait(id);
    if (!r && r.error().code != Errc::io_error) co_return make_error(r.error().code, port() + ": " + r.error().message);
    co_return r;
}

template <class M>
asio::awaitable<Result<M>> FcMavlink::next(milliseconds timeout) {
    auto b = budget(timeout);
    if (!b) co_return b.error();
    const auto now = steady_clock::now();
    const auto id = client_.message(M::info.id, now, *b, now);
    auto payload = co_await pump_.wait(id);
    if (!payload) {
        if (payload.error().code == Errc::io_error) co_return payload.error();
        co_return make_error(payload.error().code, port() + ": " + payload.error().message);
    }
    ml::Frame f;
    f.msgid = M::info.id;
    f.payload = std::move(*payload);
    co_return ml::decode<M>(f);
}

asio::awaitable<Result<void>> FcMavlink::stream(std::uint32_t msgid, double hz, bool required) {
    if (streaming_.count(msgid)) co_return Result<void>{};
    auto r = co_await command(ml::set_message_interval(client_.target(), msgid, hz), false);
    // A refusal (COMMAND_ACK not ACCEPTED) is an answer: an optional message is then not
    // waited for. No answer at all is the link's or the autopilot's fault either way.
    if (!r && (required || r.error().code != Errc::protocol_error)) co_return r.error();
    streaming_[msgid] = r.ok();
    co_return Result<void>{};
}

asio::awaitable<Result<void>> FcMavlink::wait_ready() {
    // The autopilot boots after DUT power-on: its first HEARTBEAT, within the step's budget.
    auto hb = co_await next<ml::Heartbeat>(hours(1));
    if (!hb) {
        if (hb.error().code == Errc::timeout) co_return make_error(Errc::timeout, port() + ": no HEARTBEAT from the autopilot after power-on");
        co_return hb.error();
    }
    co_return Result<void>{};
}

asio::awaitable<Result<FcIdentity>> FcMavlink::identity() {
    const auto since = steady_clock::now();
    if (auto r = co_await command(ml::request_message(client_.target(), ml::AutopilotVersion::info.id), false); !r) co_return r.error();
    auto b = budget(milliseconds(1000));
    if (!b) co_return b.error();
    const auto id = client_.message(ml::AutopilotVersion::info.id, since, *b, steady_clock::now());
    auto payload = co_await pump_.wait(id);
    if (!payload) co_return make_error(payload.error().code, port() + ": " + payload.error().message);
    ml::Frame f;
    f.msgid = ml::AutopilotVersion::info.id;
    f.payload = std::move(*payload);
    auto v = ml::decode<ml::AutopilotVersion>(f);
    if (!v) co_return v.error();
    const auto& hb = client_.autopilot_heartbeat();
    FcIdentity out;
    out.family = family(hb.autopilot);
    out.firmware = version_text(v->flight_sw_version);
    // ArduPilot puts its APJ board id in the upper 16 bits of board_version.
    out.board = std::to_string(hb.autopilot == ml::kAutopilotArdupilot ? v->board_version >> 16 : v->board_version);
    bool uid2 = false;
    for (auto byte : v->uid2) uid2 |= byte != 0;
    out.uid = uid2 ? hex_string(ByteView(reinterpret_cast<const std::byte*>(v->uid2.data()), v->uid2.size())) : fmt::format("{:016x}", v->uid);
    out.protocol_version = hb.mavlink_version >= 3 ? 2.0 : 1.0;
    co_return out;
}

asio::awaitable<Result<Battery>> FcMavlink::battery() {
    if (auto s = co_await stream(ml::SysStatus::info.id, 20); !s) co_return s.error();
    auto st = co_await next<ml::SysStatus>(kSampleWait);
    if (!st) co_return st.error();
    const double amps = st->current_battery_ca < 0 ? std::nan("") : st->current_battery_ca / 100.0;
    if (st->voltage_battery_mv != kUnknownMv) co_return Battery{st->voltage_battery_mv / 1000.0, amps};
    // SYS_STATUS without a voltage: the battery monitor's own BATTERY_STATUS (cells in mV,
    // UINT16_MAX unused; cell 0 alone when only the total is measured, with cell 1 carrying the
    // rest above 65.534 V).
    if (auto s = co_await stream(ml::BatteryStatus::info.id, 10, false); !s) co_return s.error();
    if (!streaming_[ml::BatteryStatus::info.id])
        co_return make_error(Errc::protocol_error, port() + ": SYS_STATUS reports no battery voltage and BATTERY_STATUS is refused");
    auto b = co_await next<ml::BatteryStatus>(milliseconds(1500));
    if (!b) co_return b.error();
    double mv = 0;
    for (auto cell : b->voltages)
        if (cell != kUnknownMv) mv += cell;
    for (auto cell : b->voltages_ext)
        if (cell != 0 && cell != kUnknownMv) mv += cell;
    if (mv == 0) co_return make_error(Errc::protocol_error, port() + ": neither SYS_STATUS nor BATTERY_STATUS reports a battery voltage");
    co_return Battery{mv / 1000.0, b->current_battery < 0 ? amps : b->current_battery / 100.0};
}

asio::awaitable<Result<ml::ScaledImu>> FcMavlink::imu_message() {
    if (auto s = co_await stream(ml::ScaledImu::info.id, 50, false); !s) co_return s.error();
    if (streaming_[ml::ScaledImu::info.id]) co_return co_await next<ml::ScaledImu>(kSampleWait);
    if (client_.autopilot_heartbeat().autopilot != ml::kAutopilotArdupilot)
        co_return make_error(Errc::protocol_error, port() + ": the autopilot refuses SCALED_IMU (its RAW_IMU is in sensor counts of unknown scale)");
    if (auto s = co_await stream(ml::RawImu::info.id, 50); !s) co_return s.error();
    auto raw = co_await next<ml::RawImu>(kSampleWait);
    if (!raw) co_return raw.error();
    ml::ScaledImu m;
    m.xacc = raw->xacc, m.yacc = raw->yacc, m.zacc = raw->zacc;
    m.xgyro = raw->xgyro, m.ygyro = raw->ygyro, m.zgyro = raw->zgyro;
    m.xmag = raw->xmag, m.ymag = raw->ymag, m.zmag = raw->zmag;
    co_return m;
}

asio::awaitable<Result<ImuSample>> FcMavlink::imu() {
    auto m = co_await imu_message();
    if (!m) co_return m.error();
    constexpr double kDpsPerMrad = 180.0 / std::numbers::pi / 1000.0;
    ImuSample s;
    s.acc_g = {m->xacc / 1000.0, m->yacc / 1000.0, m->zacc / 1000.0};
    s.gyro_dps = {m->xgyro * kDpsPerMrad, m->ygyro * kDpsPerMrad, m->zgyro * kDpsPerMrad};
    co_return s;
}

asio::awaitable<Result<BaroSample>> FcMavlink::barometer() {
    if (auto s = co_await stream(ml::ScaledPressure::info.id, 20); !s) co_return s.error();
    auto p = co_await next<ml::ScaledPressure>(kSampleWait);
    if (!p) co_return p.error();
    co_return BaroSample{p->press_abs * 100.0, p->temperature / 100.0};
}

asio::awaitable<Result<MagSample>> FcMavlink::magnetometer() {
    auto m = co_await imu_message();
    if (!m) co_return m.error();
    co_return MagSample{{static_cast<double>(m->xmag), static_cast<double>(m->ymag), static_cast<double>(m->zmag)}};
}

asio::awaitable<Result<RcInput>> FcMavlink::rc_input() {
    if (auto s = co_await stream(ml::RcChannels::info.id, 20); !s) co_return s.error();
    if (auto s = co_await stream(ml::SysStatus::info.id, 20); !s) co_return s.error();
    auto rc = co_await next<ml::RcChannels>(kSampleWait);
    if (!rc) co_return rc.error();
    auto st = co_await next<ml::SysStatus>(kSampleWait);
    if (!st) co_return st.error();
    RcInput in;
    for (int i = 0; i < std::min<int>(rc->chancount, 18); ++i)
        if (rc->chan_raw[i] != 0xFFFF) in.channels_us.push_back(rc->chan_raw[i]);
    // The RC receiver's health bit is cleared while the autopilot is in radio failsafe.
    in.failsafe = (st->sensors_present & ml::kSensorRcReceiver) && !(st->sensors_health & ml::kSensorRcReceiver);
    co_return in;
}

asio::awaitable<Result<void>> FcMavlink::check_motor_telemetry() {
    // ArduPilot sends ESC_TELEMETRY_1_TO_4, PX4 ESC_STATUS, each only when an ESC reports.
    // PX4 adds ESC_INFO (presence, temperature) at a low rate. A message whose interval the
    // autopilot refused is not waited for.
    const auto since = steady_clock::now();
    if (auto s = co_await stream(ml::EscTelemetry1To4::info.id, 10, false); !s) co_return s.error();
    if (auto s = co_await stream(ml::EscStatus::info.id, 10, false); !s) co_return s.error();
    if (auto s = co_await stream(ml::EscInfo::info.id, 2, false); !s) co_return s.error();
    for (auto msgid : {ml::EscTelemetry1To4::info.id, ml::EscStatus::info.id}) {
        if (!streaming_[msgid]) continue;
        auto b = budget(milliseconds(1200));
        if (!b) co_return b.error();
        auto r = co_await pump_.wait(client_.message(msgid, since, *b, steady_clock::now()));
        if (r) {
            esc_source_ = msgid;
            co_return Result<void>{};
        }
        if (r.error().code != Errc::timeout) co_return r.error();
    }
    const bool px4 = client_.autopilot_heartbeat().autopilot == ml::kAutopilotPx4;
    co_return make_error(Errc::invalid_argument, fmt::format("{}: no motor telemetry source: the autopilot sends neither ESC_TELEMETRY_1_TO_4 nor "
                                                             "ESC_STATUS; enable bidirectional DShot or ESC telemetry ({})", port(),
                                                             px4 ? "PX4: DSHOT_BIDIR_EN or DSHOT_TEL_CFG" : "ArduPilot: SERVO_BLH_BDMASK or SERVO_DSHOT_ESC"));
}

asio::awaitable<Result<void>> FcMavlink::spin_motor(int motor, double throttle_pct) {
    if (motor < 0 || motor >= max_motors() || !(throttle_pct >= 0 && throttle_pct <= 100))
        co_return make_error(Errc::invalid_argument, fmt::format("{}: motor {} at {} % is outside 1..{} and 0..100 %", port(), motor + 1, throttle_pct, max_motors()));
    const auto test = ml::motor_test(client_.target(), motor + 1, ml::MotorTestThrottle::percent, static_cast<float>(throttle_pct), kMotorTestTimeoutS);
    spinning_ = motor;  // from the moment it is sent, the safe state must stop it
    if (auto r = co_await command(test, false); !r) co_return r.error();
    client_.keep_command(test, milliseconds(1000));
    co_return Result<void>{};
}

asio::awaitable<Result<MotorSample>> FcMavlink::motor_telemetry(int motor) {
    if (motor < 0 || motor >= max_motors()) co_return make_error(Errc::invalid_argument, fmt::format("{}: no telemetry for motor {}", port(), motor + 1));
    if (esc_source_ != ml::EscStatus::info.id) {
        auto t = co_await next<ml::EscTelemetry1To4>(kSampleWait);
        if (!t && t.error().code == Errc::timeout)
            co_return make_error(Errc::timeout, fmt::format("{}: motor {} telemetry is silent: no ESC_TELEMETRY_1_TO_4", port(), motor + 1));
        if (!t) co_return t.error();
        if (t->count[motor] == 0)
            co_return make_error(Errc::protocol_error, fmt::format("{}: motor {} telemetry is silent (ESC_TELEMETRY_1_TO_4 count 0)", port(), motor + 1));
        co_return MotorSample{static_cast<double>(t->rpm[motor]), t->current[motor] / 100.0, t->voltage[motor] / 100.0,
                              static_cast<double>(t->temperature[motor])};
    }
    auto s = co_await next<ml::EscStatus>(kSampleWait);
    if (!s && s.error().code == Errc::timeout)
        co_return make_error(Errc::timeout, fmt::format("{}: motor {} telemetry is silent: no ESC_STATUS", port(), motor + 1));
    if (!s) co_return s.error();
    const int i = motor - s->index;
    if (i < 0 || i >= 4) co_return make_error(Errc::protocol_error, fmt::format("{}: ESC_STATUS starts at ESC {}, motor {} asked", port(), s->index, motor + 1));
    // The temperature comes from the newest ESC_INFO (cdegC) of the last few seconds, if any.
    double temperature = std::nan("");
    if (auto info = client_.latest(ml::EscInfo::info.id, steady_clock::now() - seconds(3))) {
        ml::Frame f;
        f.msgid = ml::EscInfo::info.id;
        f.payload = std::move(*info);
        if (auto e = ml::decode<ml::EscInfo>(f); e && i < e->count) temperature = e->temperature[i] / 100.0;
    }
    co_return MotorSample{static_cast<double>(s->rpm[i]), s->current[i], s->voltage[i], temperature};
}

asio::awaitable<Result<void>> FcMavlink::stop_motors() {
    client_.keep_command(std::nullopt);
    if (!spinning_) co_return Result<void>{};
    // Throttle 0 with timeout 0 ends the test at once; it would also lapse within 3 s.
    const auto stop = ml::motor_test(client_.target(), *spinning_ + 1, ml::MotorTestThrottle::percent, 0.0f, 0.0f);
    auto r = co_await command(stop, true);
    if (!r) co_return r.error();
    spinning_.reset();
    co_return Result<void>{};
}

asio::awaitable<Result<ConfigSnapshot>> FcMavlink::config() {
    auto b = budget(milliseconds(1000));
    if (!b) co_return b.error();
    const auto id = client_.params({*b, 5}, steady_clock::now());
    auto text = co_await pump_.wait(id);
    if (!text) co_return make_error(text.error().code, port() + ": " + text.error().message);
    ConfigSnapshot s;
    s.canonical.assign(reinterpret_cast<const char*>(text->data()), text->size());
    s.entries = static_cast<std::size_t>(std::count(s.canonical.begin(), s.canonical.end(), '\n'));
    s.sha256 = sha256_hex(s.canonical);
    co_return s;
}

asio::awaitable<Result<void>> FcMavlink::reboot() {
    auto r = co_await command(ml::reboot(client_.target()), false);
    if (!r) co_return r.error();
    co_return Result<void>{};
}

}  // namespace rig::devices
