// rigctl campaign's judgement: rigsim's truth file against the verified certificates and
// rigd's output, and the report as text, JUnit XML and JSON.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace rig::app {

struct Truth {
    std::string serial, defects, expected;  // expected: "pass", "abort" or step kinds joined by '|'
};

struct Outcome {
    std::string kind;     // "pass", "abort", "fail", "error", "none"
    std::string step;     // the first failing step's kind
    std::string summary;  // its failing measurements or message
    double cycle_s = 0;
};

struct Report {
    // defect class -> outcome column -> count
    std::map<std::string, std::map<std::string, int>> matrix;
    std::vector<std::string> problems;  // escapes, misattributions, false fails and aborts, untested units
    int good = 0, good_passed = 0, defective = 0, caught = 0;
    std::vector<double> cycles;
    std::vector<std::tuple<std::string, std::string, std::string>> cases;  // serial, class, failure ("" = ok)
    // From rigd's unit_timing lines: controller overhead as % of physical time, each unit's
    // latest dwell end (ms), instrument waits (s).
    std::vector<double> overhead_pct, dwell_late_ms;
    // Every dwell of every unit by lateness bucket (devices::RunControl::kDwellLateBoundsMs).
    std::vector<long> dwell_hist;
    // rigd's io-thread stalls over 100 ms (event=io_stall): how many, the longest, and the
    // host's steal time during them (a VM descheduled by its hypervisor).
    int io_stalls = 0;
    double io_stall_max_ms = 0, io_stall_steal_ms = 0;
};

std::vector<Truth> read_truth(const std::filesystem::path& file);
// Each serial's outcome: its certificate in the archive (the last, if tested twice), else an
// ABORTED line in rigd's output.
std::map<std::string, Outcome> read_outcomes(const std::filesystem::path& data, const std::string& rigd_out);
Report judge(const std::vector<Truth>& truth, const std::map<std::string, Outcome>& outcomes);
void read_timing(const std::string& rigd_err, Report& r);
// partial: why not every unit was tested ("INTERRUPTED", "STALLED", "STOPPED"), "" when all were.
void print_report(const Report& r, int units, int nests, double wall_s, int safety_violations, const std::string& partial);
void write_junit(const std::filesystem::path& file, const Report& r, const std::string& suite, int safety_violations);
void write_json(const std::filesystem::path& file, const Report& r, int safety_violations, bool partial);

}  // namespace rig::app
