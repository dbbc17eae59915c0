// Capabilities: what a step needs from a device, named by what it does, never by protocol
// (MAVSDK's plugin layout). Steps include this header only; each driver (FcMsp, FcMavlink,
// CrsfTransmitter, Jig) hides its protocol behind one of these, and tests/unit/rig has fakes.
// Every value is in physical units; a value a device cannot give is NaN or an error, never 0.
#pragma once
#include <array>
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rig/devices/control.hpp"

namespace rig::devices {

namespace asio = boost::asio;

struct FcIdentity {
    std::string family;      // "BTFL", "INAV", "ArduPilot", "PX4"
    std::string firmware;    // version text, e.g. "2026.12.0", "4.6.2"
    std::string board;
    std::string uid;         // lowercase hex
    double protocol_version = 0;  // MSP API version, or MAVLink 2.0
    std::optional<double> config_problems;  // bit set of known misconfigurations, where the FC reports one
};

struct Battery {
    double voltage_v = 0;
    double current_a = 0;  // NaN without a current sensor
};

struct ImuSample {
    std::array<double, 3> acc_g{};
    std::array<double, 3> gyro_dps{};
};

struct BaroSample {
    double pressure_pa = 0;
    double temperature_c = 0;
};

struct MagSample {
    std::array<double, 3> field_mgauss{};
};

struct RcInput {
    std::vector<double> channels_us;  // as the FC sees them
    bool failsafe = false;            // the FC says its receiver link is lost
};

struct MotorSample {
    double rpm = 0, current_a = 0, voltage_v = 0, temperature_c = 0;
};

struct ConfigSnapshot {
    std::size_t entries = 0;
    std::string canonical;  // "NAME=VALUE\n" sorted by name
    std::string sha256;
};

class FlightController {
public:
    virtual ~FlightController() = default;
    virtual const std::string& port() const = 0;
    // Waits until the FC answers at all (it boots after DUT power-on), within the step's budget.
    virtual asio::awaitable<Result<void>> wait_ready() = 0;
    virtual asio::awaitable<Result<FcIdentity>> identity() = 0;
    virtual asio::awaitable<Result<Battery>> battery() = 0;
    virtual asio::awaitable<Result<ImuSample>> imu() = 0;
    virtual asio::awaitable<Result<BaroSample>> barometer() = 0;
    virtual asio::awaitable<Result<MagSample>> magnetometer() = 0;
    virtual asio::awaitable<Result<RcInput>> rc_input() = 0;
    // An error saying why, when no motor telemetry source is configured (no measurement exists).
    virtual asio::awaitable<Result<void>> check_motor_telemetry() = 0;
    // Spins one motor (0-based) at a throttle percent, all others stopped; kept spinning until
    // the next spin_motor or stop_motors.
    virtual asio::awaitable<Result<void>> spin_motor(int motor, double throttle_pct) = 0;
    // The newest telemetry of one motor; an error when it is silent.
    virtual asio::awaitable<Result<MotorSample>> motor_telemetry(int motor) = 0;
    // Teardown path: all motors stopped, ignoring step deadline and abort.
    virtual asio::awaitable<Result<void>> stop_motors() = 0;
    virtual asio::awaitable<Result<ConfigSnapshot>> config() = 0;
    virtual asio::awaitable<Result<void>> reboot() = 0;
    virtual int max_motors() const = 0;
};

struct Supply {
    double voltage_v = 0, current_a = 0;
};

// The DUT supply as measured: the jig's shunt today, a bench PSU later.
class SupplyMeter {
public:
    virtual ~SupplyMeter() = default;
    virtual asio::awaitable<Result<Supply>> read_supply() = 0;
};

struct LinkStats {
    double rssi1_dbm = 0, rssi2_dbm = 0, link_quality_pct = 0, snr_db = 0;
    double downlink_rssi_dbm = 0, downlink_link_quality_pct = 0;
    double tx_power_mw = 0;
};

struct ReceiverInfo {
    std::string name, firmware, serial;
};

// The jig's reference transmitter: it streams RC channels to the drone's receiver.
class RadioTransmitter {
public:
    virtual ~RadioTransmitter() = default;
    virtual const std::string& port() const = 0;
    // Streams the channels (µs) continuously at the link's frame rate until stop_stream().
    virtual asio::awaitable<Result<void>> stream(std::vector<double> channels_us) = 0;
    virtual void stop_stream() = 0;
    // The newest link statistics, younger than `max_age`; an error when there are none.
    virtual asio::awaitable<Result<LinkStats>> link_statistics(std::chrono::milliseconds max_age) = 0;
    // Pings the receiver through the link and returns who answered.
    virtual asio::awaitable<Result<ReceiverInfo>> receiver_info() = 0;
};

struct CanNodeStatus {
    int node = 0;
    std::string health;  // OK, WARNING, ERROR, CRITICAL (NodeStatus)
    std::string mode;    // OPERATIONAL, INITIALIZATION, MAINTENANCE, SOFTWARE_UPDATE, OFFLINE
    double uptime_s = 0;
};

struct CanNodeInfo {
    int node = 0;
    std::string name;        // reverse-domain name, e.g. "com.vertiq.esc"
    std::string software;    // "MAJOR.MINOR"
    std::string vcs_commit;  // 8 hex digits, empty when the node gives none
    std::string hardware;    // "MAJOR.MINOR"
    std::string unique_id;   // 32 lowercase hex digits: the part's serial number
};

struct EscSample {
    double rpm = 0, current_a = 0, voltage_v = 0, temperature_c = 0;
    double error_count = 0;  // the ESC's own counter since its power-on
    int node = 0;            // the node that reported it
};

// ESCs on a CAN bus (DroneCAN): the bus's nodes, their identity, and each ESC commanded and read
// by its index.
class EscBus {
public:
    virtual ~EscBus() = default;
    virtual const std::string& port() const = 0;
    // The nodes that sent a NodeStatus at or after `since` (rig's own node is not one of them).
    // An error when the bus is lost or another node uses rig's node id.
    virtual Result<std::vector<CanNodeStatus>> nodes_heard_since(Clock::time_point since) const = 0;
    virtual asio::awaitable<Result<CanNodeInfo>> node_info(int node) = 0;
    // Commands ESC `esc` (0-based index) at a throttle percent and every other ESC at 0, streamed
    // at >= 50 Hz until the next spin or stop (a DroneCAN ESC stops when commands stop).
    virtual asio::awaitable<Result<void>> spin(int esc, double throttle_pct) = 0;
    // The newest esc.Status of ESC `esc`, younger than `max_age`; an error when there is none.
    virtual Result<EscSample> esc_status(int esc, std::chrono::milliseconds max_age) const = 0;
    // Teardown path: the zero command sent at once and the stream ended; never refused.
    virtual asio::awaitable<Result<void>> stop() = 0;
};

// A bench instrument as it named itself (*IDN?) and as the jig file describes it; each goes into
// the certificate beside the fixture's calibration.
struct InstrumentIdentity {
    std::string name;  // the jig file's [instruments.NAME]
    std::string type;  // "psu", "rf_power_meter", "dmm"
    std::string port;
    std::string vendor, model, serial, firmware;
    std::string calibration_due;  // YYYY-MM-DD
};

struct PsuReading {
    double voltage_v = 0, current_a = 0;
    double set_voltage_v = 0, current_limit_a = 0;  // as programmed
    // Regulating current, not voltage: the terminal voltage more than 2 % below its setting
    // (how CC mode or a foldback shows on any supply, whatever its status registers).
    bool current_limited = false;
};

struct Inrush {
    double peak_a = 0;
    int samples = 0;                     // MEAS:CURR? readings in the window
    std::chrono::milliseconds window{0};
};

// A programmable bench supply feeding the DUT through the jig's power switch.
class PowerSupply {
public:
    virtual ~PowerSupply() = default;
    virtual const std::string& port() const = 0;
    // Output on or off; never refused by a step deadline or an abort (teardown switches it off).
    virtual asio::awaitable<Result<void>> output(bool on) = 0;
    virtual asio::awaitable<Result<PsuReading>> measure() = 0;
    // Samples the current as fast as the instrument answers, for `window` (the station calls it
    // right after DUT power-on, while the FC enumerates); inrush() is the last capture. A SCPI
    // supply answers every few ms, so this is the envelope of the inrush, not its true peak.
    virtual asio::awaitable<Result<Inrush>> capture_inrush(std::chrono::milliseconds window) = 0;
    virtual Result<Inrush> inrush() const = 0;
    // "" or what tripped ("over-voltage", "over-current").
    virtual asio::awaitable<Result<std::string>> protection_tripped() = 0;
};

// An RF power meter at the jig's antenna coupler. The reading already includes the jig's
// calibrated attenuation and cable loss (the instrument's offset).
class RfPowerMeter {
public:
    virtual ~RfPowerMeter() = default;
    virtual const std::string& port() const = 0;
    virtual asio::awaitable<Result<double>> read_dbm(double frequency_hz) = 0;
};

// A DMM: one reading of a DC quantity.
class Multimeter {
public:
    enum class Quantity { dc_voltage, dc_current, resistance };
    virtual ~Multimeter() = default;
    virtual const std::string& port() const = 0;
    virtual asio::awaitable<Result<double>> measure(Quantity q) = 0;
};

struct VtxState {
    std::string device;  // "SmartAudio", "Tramp", "RTC6705", "MSP", "unknown"
    int band = 0, channel = 0, power_index = 0;
    double frequency_mhz = 0;
    bool pit_mode = false, ready = false;
    int power_levels = 0;  // entries of the VTX table; 0: no table loaded
};

// The drone's video transmitter, as its flight controller drives it.
class VideoTransmitter {
public:
    virtual ~VideoTransmitter() = default;
    virtual asio::awaitable<Result<VtxState>> vtx_state() = 0;
    virtual asio::awaitable<Result<void>> set_vtx(int band, int channel, int power_index, bool pit_mode) = 0;
    // Teardown path: lowest power level and pit mode, ignoring the step deadline and abort.
    virtual asio::awaitable<Result<void>> vtx_safe() = 0;
};

}  // namespace rig::devices
