// A bench instrument as the jig file describes it ([instruments.NAME]): plain data, no I/O, so
// the jig file loader and the drivers share it without either pulling in the other.
#pragma once
#include <string>

namespace rig::devices {

struct InstrumentConfig {
    std::string name;             // the table's name, e.g. "psu"
    std::string type;             // "psu", "rf_power_meter", "dmm"
    std::string port;             // tcp:HOST:5025, serial:/dev/ttyUSB0?baud=9600
    std::string model;            // what *IDN? must name; another model is refused
    std::string calibration_due;  // YYYY-MM-DD; past it the station refuses to certify
    // Shared by several nests of one rigd (the same port in their jig files): each use waits
    // its turn at most lock_timeout_ms, then sends `select` (this nest's output or RF switch
    // path, e.g. "INST:NSEL 2" or "ROUT:CLOS (@102)") and this nest's settings.
    std::string select;
    int lock_timeout_ms = 10000;
    // psu
    double voltage_v = 0, current_limit_a = 0;
    double ovp_v = 0;             // over-voltage protection; 0: the supply's own setting
    int inrush_window_ms = 300;   // current sampled this long after DUT power-on
    // rf_power_meter
    double offset_db = 0;         // the jig's attenuator plus cable loss, calibrated
    int averages = 4;
};

}  // namespace rig::devices
