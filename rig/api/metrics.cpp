#include "rig/api/metrics.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace rig::api {

namespace {

const std::vector<double> kStepBounds = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60};
const std::vector<double> kCommitBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1};

// A label value: backslash, double quote and newline escaped.
std::string label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

void histogram(std::string& out, const char* name, const std::string& labels, const Metrics::Histogram& h) {
    std::uint64_t cumulative = 0;
    const std::string sep = labels.empty() ? "" : ",";
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
        cumulative += h.counts[i];
        out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, h.bounds[i], cumulative);
    }
    out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, h.total);
    const std::string braces = labels.empty() ? "" : "{" + labels + "}";
    out += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, braces, h.sum, name, braces, h.total);
}

Metrics::Histogram make(const std::vector<double>& bounds) {
    Metrics::Histogram h;
    h.bounds = bounds;
    h.counts.assign(bounds.size() + 1, 0);
    return h;
}

}  // namespace

void Metrics::Histogram::add(double v) {
    if (counts.empty()) counts.assign(bounds.size() + 1, 0);
    const auto i = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
    ++counts[i];
    sum += v;
    ++total;
}

void Metrics::observe(const station::NestEvent& e) {
    if (e.type == "step_finished" && e.step && e.step->duration_s > 0) {
        auto it = step_seconds_.find(e.step->kind);
        if (it == step_seconds_.end()) it = step_seconds_.emplace(e.step->kind, make(kStepBounds)).first;
        it->second.add(e.step->duration_s);
    } else if (e.type == "verdict" && e.view.last) {
        if (commit_seconds_.bounds.empty()) commit_seconds_ = make(kCommitBounds);
        commit_seconds_.add(e.view.last->commit_s);
    }
}

std::string Metrics::render(const std::vector<station::NestView>& nests) const {
    std::string out;
    out += "# HELP rig_units_total Units that left a nest, by result (pass, fail, error: certified; aborted, rejected: not).\n"
           "# TYPE rig_units_total counter\n";
    for (const auto& n : nests) {
        const auto& t = n.totals;
        for (auto [result, count] : {std::pair{"pass", t.passed}, {"fail", t.failed}, {"error", t.errored}, {"aborted", t.aborted}, {"rejected", t.rejected}})
            out += fmt::format("rig_units_total{{nest=\"{}\",variant=\"{}\",result=\"{}\"}} {}\n", label(n.station), label(n.variant), result, count);
    }
    out += "# HELP rig_certificates_total Certificates committed to the archive.\n# TYPE rig_certificates_total counter\n";
    for (const auto& n : nests) out += fmt::format("rig_certificates_total{{nest=\"{}\"}} {}\n", label(n.station), n.totals.tested);
    out += "# HELP rig_jig_watchdog_trips_total Times a jig cut DUT power on its own during a test.\n# TYPE rig_jig_watchdog_trips_total counter\n";
    for (const auto& n : nests) out += fmt::format("rig_jig_watchdog_trips_total{{nest=\"{}\"}} {}\n", label(n.station), n.totals.watchdog_trips);
    out += "# HELP rig_nest_state The nest's state (1 for the current one).\n# TYPE rig_nest_state gauge\n";
    for (const auto& n : nests)
        for (auto s : station::kNestStates)
            out += fmt::format("rig_nest_state{{nest=\"{}\",state=\"{}\"}} {}\n", label(n.station), to_string(s), s == n.state ? 1 : 0);
    out += "# HELP rig_step_duration_seconds Duration of each step run, by step kind.\n# TYPE rig_step_duration_seconds histogram\n";
    for (const auto& [kind, h] : step_seconds_) histogram(out, "rig_step_duration_seconds", fmt::format("kind=\"{}\"", label(kind)), h);
    out += "# HELP rig_commit_latency_seconds Signing and the durable commit of a certificate.\n# TYPE rig_commit_latency_seconds histogram\n";
    histogram(out, "rig_commit_latency_seconds", "", commit_seconds_.bounds.empty() ? make(kCommitBounds) : commit_seconds_);
    return out;
}

}  // namespace rig::api
