// A station description (fixtures/jigs/*.toml, or the one rigsim writes): identity and ports.
#pragma once
#include <filesystem>
#include <string>

#include <vector>

#include "protocols/common/result.hpp"
#include "rig/devices/instrument_config.hpp"

namespace rig::station {

struct JigFile {
    std::string path;
    std::string station_id;
    std::string fixture_id;
    std::string calibration_due;  // YYYY-MM-DD
    std::string variant;          // the variant this line builds
    std::string lot;
    // Where the unit's serial comes from: "jig" (the jig's reader, read when the lid closes)
    // or "page" (the operator page's scan field or POST /api/v1/nests/ID/scan).
    std::string scanner = "jig";
    // What starts the test: "lid" (the lid closing on a unit with its serial) or "operator"
    // (the page's start button or POST .../start, only once the lid is closed on a unit).
    std::string start = "lid";
    // The factory archive every certificate is forwarded to (postgresql://...), or "" for none;
    // rigd --factory overrides it.
    std::string factory;
    std::string jig_port;         // port URIs (rig/io)
    std::string fc_port;
    std::string fc_protocol = "msp";  // "msp" | "mavlink"
    // MSP_RAW_IMU counts per unit (MSP only): the board's sensor scale.
    double acc_1g = 2048, gyro_counts_per_dps = 16.384, mag_counts_per_mgauss = 0;
    std::string radio_port;             // empty: no reference transmitter
    std::string radio_protocol = "crsf";
    std::string can_port;  // empty: no CAN bus (slcan:..., socketcan:...)
    std::string can_protocol = "dronecan";
    int can_node_id = 100;  // rig's own DroneCAN node id on that bus
    std::vector<devices::InstrumentConfig> instruments;  // [instruments.NAME]: at most one of each type
};

Result<JigFile> load_jigfile(const std::filesystem::path& file);

// Today's date (UTC) as YYYY-MM-DD, as calibration dates are written.
std::string today_utc();
// The first calibration past its date on `today` (the fixture's, then each instrument's), as one
// line naming the file and key; empty when all are current. Checked at start and before each unit.
std::string expired_calibration(const JigFile& jig, const std::string& today);

}  // namespace rig::station
