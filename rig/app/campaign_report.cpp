#include "rig/app/campaign_report.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "reports/text.hpp"
#include "reports/trust.hpp"
#include "reports/verify.hpp"
#include "rig/archive/archive.hpp"
#include "rig/devices/control.hpp"

namespace rig::app {
namespace fs = std::filesystem;

namespace {
double seconds_between(const std::string& a, const std::string& b) { return reports::epoch_seconds(b) - reports::epoch_seconds(a); }

std::string min_med_max(std::vector<double> v) {
    if (v.empty()) return "n/a";
    std::sort(v.begin(), v.end());
    return fmt::format("{:.2f} / {:.2f} / {:.2f} s", v.front(), v[v.size() / 2], v.back());
}

// The value of `key=` in a log line, or NaN.
double field(const std::string& line, const std::string& key) {
    const auto at = line.find(" " + key + "=");
    return at == std::string::npos ? std::nan("") : std::atof(line.c_str() + at + key.size() + 2);
}

// The bound (ms) of the lateness bucket holding the p-th percentile of all dwells; infinity
// for the last, unbounded one.
double hist_percentile(const std::vector<long>& hist, double p) {
    const auto& bounds = devices::RunControl::kDwellLateBoundsMs;
    long total = 0;
    for (long n : hist) total += n;
    const auto rank = std::max<long>(1, static_cast<long>(std::ceil(p / 100 * static_cast<double>(total))));
    long seen = 0;
    for (std::size_t i = 0; i < hist.size(); ++i) {
        seen += hist[i];
        if (seen >= rank) return i < bounds.size() ? bounds[i] : INFINITY;
    }
    return INFINITY;
}

struct DwellSummary {
    long count = 0;
    double p50 = 0, p99 = 0, within_2ms_pct = 0;
};

DwellSummary dwell_summary(const std::vector<long>& hist) {
    DwellSummary d;
    long within = 0;
    const auto& bounds = devices::RunControl::kDwellLateBoundsMs;
    for (std::size_t i = 0; i < hist.size(); ++i) {
        d.count += hist[i];
        if (i < bounds.size() && bounds[i] <= 2) within += hist[i];
    }
    if (d.count == 0) return d;
    d.p50 = hist_percentile(hist, 50);
    d.p99 = hist_percentile(hist, 99);
    d.within_2ms_pct = 100.0 * static_cast<double>(within) / static_cast<double>(d.count);
    return d;
}

std::string bound_text(double ms) { return std::isinf(ms) ? fmt::format("> {:g}", devices::RunControl::kDwellLateBoundsMs.back()) : fmt::format("<= {:g}", ms); }

// The nearest-rank percentile of a non-empty list.
double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

std::string xml(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '<') o += "&lt;";
        else if (c == '>') o += "&gt;";
        else if (c == '&') o += "&amp;";
        else if (c == '"') o += "&quot;";
        else o += c;
    }
    return o;
}

}  // namespace

std::vector<Truth> read_truth(const fs::path& file) {
    std::vector<Truth> out;
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        Truth t;
        std::getline(ls, t.serial, '\t');
        std::getline(ls, t.defects, '\t');
        std::getline(ls, t.expected, '\t');
        if (!t.serial.empty()) out.push_back(t);
    }
    return out;
}


std::map<std::string, Outcome> read_outcomes(const fs::path& data, const std::string& rigd_out) {
    std::map<std::string, Outcome> out;
    reports::TrustStore trust;
    (void)trust.add_directory(data / "trust");
    if (auto a = archive::Archive::open_read_only(data / "archive.sqlite")) {
        if (auto rows = a->all()) {
            for (const auto& row : *rows) {
                auto v = reports::verify_certificate(row.envelope, trust);
                Outcome o;
                if (!v) {
                    o.kind = "error";
                    o.summary = "certificate does not verify: " + v.error().message;
                } else {
                    const auto& c = v->certificate;
                    o.kind = reports::to_string(c.verdict);
                    o.cycle_s = seconds_between(c.started_at, c.finished_at);
                    for (const auto& s : c.steps) {
                        if (s.verdict == reports::Verdict::pass) continue;
                        o.step = s.kind;
                        o.summary = s.message;
                        for (const auto& m : s.measurements)
                            if (m.verdict != reports::Verdict::pass)
                                o.summary += fmt::format("{}{} {} {} outside {}", o.summary.empty() ? "" : "; ", m.name,
                                                         m.text.empty() ? fmt::format("{:g}", m.value) : m.text, m.unit, m.limit);
                        break;
                    }
                }
                out[row.serial] = o;
            }
        }
    }
    std::istringstream lines(rigd_out);
    std::string line;
    while (std::getline(lines, line)) {
        const auto at = line.find("unit ");
        const auto ab = line.find(" ABORTED (");
        if (at == std::string::npos || ab == std::string::npos) continue;
        auto serial = line.substr(at + 5, line.find(' ', at + 5) - at - 5);
        if (!out.count(serial)) out[serial] = Outcome{"abort", "", line.substr(ab + 10, line.find("):", ab) - ab - 10), 0};
    }
    return out;
}


Report judge(const std::vector<Truth>& truth, const std::map<std::string, Outcome>& outcomes) {
    Report r;
    for (const auto& t : truth) {
        const auto it = outcomes.find(t.serial);
        const Outcome o = it == outcomes.end() ? Outcome{"none", "", "", 0} : it->second;
        if (o.cycle_s > 0) r.cycles.push_back(o.cycle_s);
        std::string problem;
        const bool good = t.defects == "-";
        std::string cls = good ? "(good)" : t.defects.substr(0, t.defects.find(':'));
        if (t.defects.find(',') != std::string::npos) cls = t.defects;
        std::string column;
        if (o.kind == "none") {
            column = "not tested";
            problem = fmt::format("{} ({}): no verdict (not tested)", t.serial, good ? "good" : t.defects);
        } else if (t.expected == "pass") {
            column = o.kind == "pass" ? "pass" : o.kind == "abort" ? "aborted" : o.step;
            if (good) ++r.good;
            if (o.kind == "pass") ++r.good_passed;
            else
                problem = fmt::format("{} ({}): false {}{}: {}", t.serial, good ? "good unit" : t.defects, o.kind == "abort" ? "abort" : o.kind,
                                      o.step.empty() ? "" : " at " + o.step, o.summary);
        } else {
            ++r.defective;
            std::set<std::string> want;
            std::istringstream ws(t.expected);
            for (std::string k; std::getline(ws, k, '|');) want.insert(k);
            if (o.kind == "pass") {
                column = "ESCAPED";
                problem = fmt::format("{} ({}): ESCAPE: passed every step of the plan (expected to be caught by {})", t.serial, t.defects, t.expected);
            } else if (o.kind == "abort") {
                column = "aborted";
                if (want.count("abort")) ++r.caught;
                else problem = fmt::format("{} ({}): aborted ({}), expected {}", t.serial, t.defects, o.summary, t.expected);
            } else {
                column = o.step;
                if (want.count(o.step)) ++r.caught;
                else
                    problem = fmt::format("{} ({}): MISATTRIBUTED: caught by {} ({}), expected {}", t.serial, t.defects, o.step, o.summary,
                                          t.expected);
            }
        }
        ++r.matrix[cls][column];
        if (!problem.empty()) r.problems.push_back(problem);
        r.cases.emplace_back(t.serial, cls, problem);
    }
    return r;
}


void print_report(const Report& r, int units, int nests, double wall_s, int safety_violations, const std::string& partial) {
    fmt::print("\n== detection matrix ({} units on {} nests{}) ==\n", units, nests, partial.empty() ? "" : ", " + partial + ": partial");
    std::set<std::string> columns;
    for (const auto& [cls, row] : r.matrix)
        for (const auto& [c, n] : row) columns.insert(c);
    std::size_t w = 22;
    for (const auto& [cls, row] : r.matrix) w = std::max(w, cls.size() + 2);
    fmt::print("{:<{}}", "defect \\ outcome", w);
    for (const auto& c : columns) fmt::print("{:>{}}", c, std::max<std::size_t>(10, c.size() + 2));
    fmt::print("\n");
    for (const auto& [cls, row] : r.matrix) {
        fmt::print("{:<{}}", cls, w);
        for (const auto& c : columns) {
            const auto it = row.find(c);
            fmt::print("{:>{}}", it == row.end() ? std::string(".") : std::to_string(it->second), std::max<std::size_t>(10, c.size() + 2));
        }
        fmt::print("\n");
    }
    fmt::print("\ndefective units caught by their intended step: {} of {}\n", r.caught, r.defective);
    fmt::print("good units passed: {} of {}\n", r.good_passed, r.good);
    fmt::print("cycle time (power-on to verdict) min / median / max: {}\n", min_med_max(r.cycles));
    if (!r.overhead_pct.empty()) {
        auto v = r.overhead_pct;
        std::sort(v.begin(), v.end());
        fmt::print("controller overhead, % of physical time (lid closed to verdict) min / median / max: {:.2f} / {:.2f} / {:.2f} %\n", v.front(),
                   v[v.size() / 2], v.back());
    }
    if (!r.dwell_late_ms.empty())
        fmt::print("dwell end after plan (each unit's latest) p50 / p99 / max: {:.2f} / {:.2f} / {:.2f} ms\n", percentile(r.dwell_late_ms, 50),
                   percentile(r.dwell_late_ms, 99), percentile(r.dwell_late_ms, 100));
    if (const auto d = dwell_summary(r.dwell_hist); d.count > 0)
        fmt::print("dwell end after plan (all {} dwells) p50 {} ms, p99 {} ms; within 2 ms: {:.2f} %\n", d.count, bound_text(d.p50), bound_text(d.p99),
                   d.within_2ms_pct);
    fmt::print("rigd io-thread stalls over 100 ms: {}", r.io_stalls);
    if (r.io_stalls > 0) fmt::print(" (longest {:.0f} ms; the host stole {:.0f} ms of CPU during them)", r.io_stall_max_ms, r.io_stall_steal_ms);
    fmt::print("\n");
    fmt::print("wall time {:.1f} s; safety violations seen by the jigs: {}\n", wall_s, safety_violations);
    if (!r.problems.empty()) {
        fmt::print("\n{} problem(s):\n", r.problems.size());
        for (const auto& p : r.problems) fmt::print("  {}\n", reports::printable(p));
    }
}


void write_junit(const fs::path& file, const Report& r, const std::string& suite, int safety_violations) {
    std::ofstream out(file);
    int failures = safety_violations > 0 ? 1 : 0;
    for (const auto& c : r.cases) failures += std::get<2>(c).empty() ? 0 : 1;
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out << fmt::format("<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n", xml(suite), r.cases.size() + 1, failures);
    for (const auto& [serial, cls, problem] : r.cases) {
        out << fmt::format("  <testcase classname=\"{}\" name=\"{}\"", xml(suite + "." + cls), xml(serial));
        if (problem.empty()) out << "/>\n";
        else out << fmt::format(">\n    <failure message=\"{}\"/>\n  </testcase>\n", xml(problem));
    }
    out << fmt::format("  <testcase classname=\"{}\" name=\"safety\"", xml(suite));
    if (safety_violations == 0) out << "/>\n";
    else out << fmt::format(">\n    <failure message=\"{} safety violations (DUT powered or motors commanded at the verdict light)\"/>\n  </testcase>\n", safety_violations);
    out << "</testsuite>\n";
}

void write_json(const fs::path& file, const Report& r, int safety_violations, bool partial) {
    std::ofstream out(file);
    out << "{\"partial\":" << (partial ? "true" : "false") << ",\"defective\":" << r.defective << ",\"caught\":" << r.caught
        << ",\"good\":" << r.good << ",\"good_passed\":" << r.good_passed << ",\"safety_violations\":" << safety_violations << ",\"matrix\":{";
    bool first = true;
    for (const auto& [cls, row] : r.matrix) {
        out << (first ? "" : ",") << "\"" << reports::printable(cls) << "\":{";
        first = false;
        bool f2 = true;
        for (const auto& [c, n] : row) {
            out << (f2 ? "" : ",") << "\"" << c << "\":" << n;
            f2 = false;
        }
        out << "}";
    }
    out << "},\"problems\":[";
    for (std::size_t i = 0; i < r.problems.size(); ++i) {
        std::string p = reports::printable(r.problems[i]);
        std::string esc;
        for (char c : p) esc += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
        out << (i ? "," : "") << "\"" << esc << "\"";
    }
    out << "]";
    if (!r.overhead_pct.empty())
        out << fmt::format(",\"overhead_pct\":{{\"min\":{:.3f},\"median\":{:.3f},\"max\":{:.3f}}}", percentile(r.overhead_pct, 0),
                           percentile(r.overhead_pct, 50), percentile(r.overhead_pct, 100));
    if (!r.dwell_late_ms.empty())
        out << fmt::format(",\"dwell_late_ms\":{{\"p50\":{:.3f},\"p99\":{:.3f},\"max\":{:.3f}}}", percentile(r.dwell_late_ms, 50),
                           percentile(r.dwell_late_ms, 99), percentile(r.dwell_late_ms, 100));
    out << fmt::format(",\"io_stalls\":{{\"count\":{},\"max_ms\":{:.0f},\"host_steal_ms\":{:.0f}}}", r.io_stalls, r.io_stall_max_ms,
                       r.io_stall_steal_ms);
    if (const auto d = dwell_summary(r.dwell_hist); d.count > 0)
        out << fmt::format(",\"dwells\":{{\"count\":{},\"p50_ms_at_most\":{},\"p99_ms_at_most\":{},\"within_2ms_pct\":{:.3f}}}", d.count,
                           std::isinf(d.p50) ? "null" : fmt::format("{:g}", d.p50), std::isinf(d.p99) ? "null" : fmt::format("{:g}", d.p99),
                           d.within_2ms_pct);
    out << "}\n";
}

void read_timing(const std::string& rigd_err, Report& r) {
    std::istringstream lines(rigd_err);
    for (std::string line; std::getline(lines, line);) {
        if (line.find(" event=io_stall ") != std::string::npos) {
            ++r.io_stalls;
            if (auto v = field(line, "late_ms"); std::isfinite(v)) r.io_stall_max_ms = std::max(r.io_stall_max_ms, v);
            if (auto v = field(line, "host_steal_ms"); std::isfinite(v)) r.io_stall_steal_ms += v;
            continue;
        }
        if (line.find(" event=unit_timing ") == std::string::npos) continue;
        if (auto v = field(line, "overhead_pct"); std::isfinite(v)) r.overhead_pct.push_back(v);
        if (auto v = field(line, "dwell_late_max_ms"); std::isfinite(v) && field(line, "dwells") > 0) r.dwell_late_ms.push_back(v);
        if (const auto at = line.find(" dwell_late_hist="); at != std::string::npos) {
            std::istringstream counts(line.substr(at + 17, line.find(' ', at + 1) - at - 17));
            r.dwell_hist.resize(devices::RunControl::kDwellLateBoundsMs.size() + 1);
            std::size_t i = 0;
            for (std::string n; std::getline(counts, n, ',') && i < r.dwell_hist.size(); ++i) r.dwell_hist[i] += std::atol(n.c_str());
        }
    }
}

}  // namespace rig::app
