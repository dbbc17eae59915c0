#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "rig/station/jigfile.hpp"
#include "rig/steps/steps.hpp"

using namespace rig;
namespace fs = std::filesystem;

TEST_CASE("step statistics: mean, sample deviation and spread") {
    auto s = steps::stats({1.0, 2.0, 3.0, 4.0});
    CHECK(s.mean == 2.5);
    CHECK(s.stddev == doctest::Approx(1.2909944));
    CHECK(s.min == 1.0);
    CHECK(s.max == 4.0);
    CHECK(steps::stats({5.0}).stddev == 0.0);
    CHECK(std::isnan(steps::stats({}).mean));
    CHECK(steps::spread_pct({9000, 10000, 11000}) == doctest::Approx(20.0));
    // No motor turned at all: the spread is undefined, which fails any limit (NaN never passes).
    CHECK(std::isnan(steps::spread_pct({0, 0, 0, 0})));
    CHECK(std::isnan(steps::spread_pct({})));
}

namespace {
struct TempFile {
    fs::path path = fs::temp_directory_path() / ("rig-jig-" + std::to_string(::getpid()) + ".toml");
    explicit TempFile(const std::string& text) { std::ofstream(path) << text; }
    ~TempFile() { fs::remove(path); }
};
const char* kGood = R"([station]
id = "line1-3"
fixture_id = "JIG-0042"
calibration_due = "2027-06-30"
variant = "fpv5-bf"

[devices.jig]
port = "serial:/dev/ttyACM0"

[devices.fc]
port = "tcp:127.0.0.1:5761"
)";
}  // namespace

TEST_CASE("jig files load, and each error names the file, line and key") {
    TempFile good(kGood);
    auto j = station::load_jigfile(good.path);
    REQUIRE(j);
    CHECK(j->station_id == "line1-3");
    CHECK(j->fc_port == "tcp:127.0.0.1:5761");
    CHECK(j->fc_protocol == "msp");

    std::string missing = kGood;
    missing.replace(missing.find("fixture_id"), std::string("fixture_id = \"JIG-0042\"\n").size(), "");
    TempFile m(missing);
    CHECK(station::load_jigfile(m.path).error().message == m.path.string() + ":1:1: missing key 'station.fixture_id'");

    std::string badport = kGood;
    badport.replace(badport.find("serial:/dev/ttyACM0"), 19, "/dev/ttyACM0");
    TempFile b(badport);
    CHECK(station::load_jigfile(b.path).error().message ==
          b.path.string() + ":8:8: key 'devices.jig.port': port '/dev/ttyACM0': expected scheme:address (serial:, tcp:, usb-serial:, usbtmc:)");

    TempFile mav(std::string(kGood) + "protocol = \"mavlink\"\n");
    auto loaded = station::load_jigfile(mav.path);
    REQUIRE(loaded);
    CHECK(loaded->fc_protocol == "mavlink");
    TempFile p(std::string(kGood) + "protocol = \"uavcan\"\n");
    CHECK(station::load_jigfile(p.path).error().message == p.path.string() + ":12:12: key 'devices.fc.protocol': unknown protocol 'uavcan' (msp, mavlink)");
    TempFile scale(std::string(kGood) + "acc_1g = 0\n");
    CHECK(station::load_jigfile(scale.path).error().message == scale.path.string() + ":12:10: key 'devices.fc.acc_1g' must be a number in 1..65536");

    CHECK(station::load_jigfile("/nonexistent/jig.toml").error().message == "/nonexistent/jig.toml: no such jig file");
}

TEST_CASE("calibration: the fixture's, then each instrument's date, checked against a given day (start and each unit)") {
    station::JigFile jig;
    jig.path = "jig.toml";
    jig.fixture_id = "FX-7";
    jig.calibration_due = "2027-03-31";
    devices::InstrumentConfig psu;
    psu.name = "psu";
    psu.type = "psu";
    psu.model = "E36103B";
    psu.calibration_due = "2027-01-31";
    jig.instruments.push_back(psu);
    CHECK(station::expired_calibration(jig, "2027-01-31").empty());  // due that day: still valid
    CHECK(station::expired_calibration(jig, "2027-02-01") ==
          "jig.toml: instrument psu (psu E36103B) calibration expired on 2027-01-31 (instruments.psu.calibration_due); recalibrate before testing");
    CHECK(station::expired_calibration(jig, "2027-04-01") ==
          "jig.toml: fixture FX-7 calibration expired on 2027-03-31 (station.calibration_due); recalibrate before testing");
    CHECK(station::today_utc().size() == 10);
}
