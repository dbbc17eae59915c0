// The step kinds a plan may use. Adding a kind here is the recompile a new kind of step needs;
// its parameters and limits are then data in the variant files.
#include "rig/plan/plan.hpp"

namespace rig::plan {

using namespace std::chrono_literals;

const std::vector<KindSchema>& catalogue() {
    static const std::vector<KindSchema> kinds = {
        {"fc.identity", 3s, {},
         {{"fc_variant", false, ""}, {"firmware", false, ""}, {"board", false, ""}, {"uid", false, ""},
          {"api_version", true, ""}, {"config_problems", true, ""}}},
        {"power.idle_current", 5s,
         {{"settle_ms", 500.0, 0, 60000, true}, {"samples", 5.0, 1, 1000, true}},
         {{"current", true, "A"}, {"supply_voltage", true, "V"}}},
        {"power.vbat_accuracy", 5s,
         {{"samples", 5.0, 1, 1000, true}},
         {{"vbat_error", true, "V"}}},
        {"fc.config", 10s, {},
         {{"config_sha256", false, ""}, {"config_entries", true, ""}}},
        {"imu.static", 5s,
         {{"samples", 50.0, 2, 10000, true}},
         {{"acc_magnitude", true, "g"}, {"gyro_noise", true, "dps"}, {"gyro_bias", true, "dps"}}},
        {"baro.static", 5s,
         {{"samples", 20.0, 2, 10000, true}, {"period_ms", 50.0, 1, 10000, true}},
         {{"pressure", true, "hPa"}, {"pressure_noise", true, "Pa"}, {"baro_temperature", true, "degC"}}},
        {"mag.static", 5s,
         {{"samples", 20.0, 2, 10000, true}, {"period_ms", 20.0, 1, 10000, true}},
         {{"mag_field", true, "mGauss"}, {"mag_noise", true, "mGauss"}}},
        {"radio.link", 10s,
         {{"channels", 8.0, 1, 16, true}, {"samples", 10.0, 1, 1000, true}, {"settle_ms", 500.0, 0, 60000, true}},
         {{"channel_error", true, "us"}, {"link_quality", true, "%"}, {"rssi", true, "dBm"}, {"snr", true, "dB"},
          {"downlink_link_quality", true, "%"}, {"receiver", false, ""}, {"receiver_serial", false, ""}}},
        {"radio.failsafe", 10s,
         {{"max_wait_ms", 3000.0, 100, 60000, true}, {"period_ms", 20.0, 5, 1000, true}},
         {{"failsafe_ms", true, "ms"}, {"recovery_ms", true, "ms"}}},
        {"motors.spin", 20s,
         {{"motors", 4.0, 1, 8, true}, {"throttle_pct", 30.0, 1, 100}, {"spin_up_ms", 700.0, 0, 30000, true}, {"samples", 5.0, 1, 1000, true}},
         {{"rpm", true, "rpm"}, {"rpm_spread", true, "%"}, {"current", true, "A"}, {"motor_telemetry", false, ""}}},
    };
    return kinds;
}

const KindSchema* find_kind(const std::string& kind) {
    for (const auto& k : catalogue())
        if (k.kind == kind) return &k;
    return nullptr;
}

}  // namespace rig::plan
