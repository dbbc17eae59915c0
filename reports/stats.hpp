// Yield, failure Pareto and process capability from certificates alone (their structured
// limits), as QA watches a line: to see a process drift before it fails units.
//
// Definitions (README "Statistics"):
// - A unit is a serial. Its first certificate (in the selection) decides its first pass; its
//   last, its final verdict. A unit belongs to the variant, lot and station of its first
//   certificate; every later certificate of it is a retest. The caller says where each
//   certificate stands among its unit's (UnitPlace), so nothing is kept per unit.
// - FPY = units passed at their first test / units; yield = units whose last verdict is pass / units.
// - Per step: its first-pass yield over units' first certificates that ran it.
// - Pareto: failed (fail or error) steps, and failed measurements, over every certificate.
// - Capability per (variant, step, measurement) over every numeric value: the mean; the overall
//   σ (sample, n-1) gives Pp/Ppk; the within σ (average moving range / 1.128) gives Cp/Cpk. A
//   one-sided limit has only its side's index. The control chart is the individuals chart:
//   centre = mean, limits = mean ± 3 σ within, read with the Western Electric rules. The moments
//   are streamed (Welford), and the chart keeps the last `points` values of each series: memory
//   is bounded by the number of series, not of certificates.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "reports/certificate.hpp"

namespace rig::reports {

struct YieldRow {
    std::string key;
    std::uint64_t units = 0, tests = 0, first_pass = 0, final_pass = 0;
    double fpy() const { return units ? double(first_pass) / double(units) : 0; }
    double yield() const { return units ? double(final_pass) / double(units) : 0; }
};

struct StepYield {
    std::string variant, step;
    std::uint64_t tests = 0, failures = 0;          // every certificate that ran it
    std::uint64_t first_tests = 0, first_passed = 0;  // units' first certificates
    double fpy() const { return first_tests ? double(first_passed) / double(first_tests) : 0; }
};

struct ParetoRow {
    std::string what;  // "motors" or "motors / motor3_rpm"
    std::uint64_t failures = 0;
    double share = 0, cumulative = 0;  // of all failures of its kind, 0..1
};

// One Western Electric rule broken: rule 1 (a point beyond 3σ), 2 (2 of 3 beyond 2σ on one
// side), 3 (4 of 5 beyond 1σ on one side), 4 (8 in a row on one side of the centre). Points
// that break the same rule one after the other make one alarm, first..last (0-based).
struct RunAlarm {
    int rule = 0;
    std::size_t first = 0, last = 0;
    bool operator==(const RunAlarm&) const = default;
};
std::vector<RunAlarm> western_electric(const std::vector<double>& x, double centre, double sigma);
const char* rule_text(int rule);

struct Capability {
    std::string variant, step, measurement, unit;
    std::optional<double> lsl, usl;  // of the newest certificate
    bool limits_changed = false;     // older certificates judged it against other limits
    std::uint64_t n = 0, failures = 0;
    double mean = 0, sigma = 0, sigma_within = 0, min = 0, max = 0;
    std::optional<double> cp, cpk, pp, ppk;
    std::vector<double> values;          // in time order: the control chart, the series' last points
    std::vector<std::string> serials;
    std::uint64_t first_point = 0;       // the series index of values[0] (0 unless older points fell off the chart)
    std::vector<RunAlarm> alarms;        // on the chart's points (indices into values)
};

struct Stats {
    std::uint64_t certificates = 0, units = 0, retests = 0;
    YieldRow total;
    std::vector<YieldRow> by_variant, by_lot, by_station;
    std::vector<StepYield> by_step;
    std::vector<ParetoRow> pareto_steps, pareto_measurements;
    std::vector<Capability> capability;
    std::string first_at, last_at;  // finished_at of the first and last certificate
};

// Where a certificate stands among its unit's certificates in the selection, and the variant,
// lot and station of the unit's first certificate (which the unit is counted under).
struct UnitPlace {
    bool first = true, last = true;
    std::string variant, lot, station;
};

// Fed certificates in time order (as Archive::each reads them); finish() computes everything.
class StatsBuilder {
public:
    static constexpr std::size_t kDefaultPoints = 500;
    explicit StatsBuilder(std::size_t chart_points = kDefaultPoints) : points_(std::max<std::size_t>(chart_points, 1)) {}
    void add(const Certificate& c, const UnitPlace& place);
    Stats finish() const;

private:
    struct Series {
        Capability cap;
        std::optional<LimitSpec> spec;
        double m2 = 0, moving_range = 0, last = 0;  // Welford's sum of squares; the sum of |x[i] - x[i-1]|
    };
    std::size_t points_;
    std::map<std::string, YieldRow> by_variant_, by_lot_, by_station_;
    std::map<std::pair<std::string, std::string>, StepYield> steps_;
    std::vector<std::pair<std::string, std::string>> step_order_;  // as the plans run them
    std::map<std::string, std::uint64_t> step_failures_, measurement_failures_;
    std::map<std::tuple<std::string, std::string, std::string>, Series> series_;
    void add_point(Series& series, double x, const std::string& serial);
    std::vector<std::tuple<std::string, std::string, std::string>> series_order_;
    Stats head_;
};

// The same statistics as text (for a terminal), JSON (for CI) and one self-contained HTML page
// with SVG charts: yield tables, the failure Pareto, and a control chart per measurement.
std::string stats_text(const Stats& s);
std::string stats_json(const Stats& s);
std::string stats_html(const Stats& s, const std::string& title, const std::string& rendered_at);

}  // namespace rig::reports
