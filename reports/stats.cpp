#include "reports/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace rig::reports {

const char* rule_text(int rule) {
    switch (rule) {
        case 1: return "a point beyond 3 sigma";
        case 2: return "2 of 3 points beyond 2 sigma on one side";
        case 3: return "4 of 5 points beyond 1 sigma on one side";
        case 4: return "8 points in a row on one side of the centre";
    }
    return "?";
}

namespace {

// Does the window of `len` points ending at i hold at least `need` beyond k sigma on one side?
bool beyond(const std::vector<double>& x, std::size_t i, std::size_t len, std::size_t need, double centre, double limit) {
    if (i + 1 < len) return false;
    std::size_t up = 0, down = 0;
    for (std::size_t j = i + 1 - len; j <= i; ++j) {
        up += x[j] > centre + limit;
        down += x[j] < centre - limit;
    }
    // The point that completes the pattern must itself be one of them.
    const bool self_up = x[i] > centre + limit, self_down = x[i] < centre - limit;
    return (up >= need && self_up) || (down >= need && self_down);
}

}  // namespace

std::vector<RunAlarm> western_electric(const std::vector<double>& x, double centre, double sigma) {
    std::vector<RunAlarm> out;
    if (!(sigma > 0)) return out;
    for (int rule = 1; rule <= 4; ++rule) {
        for (std::size_t i = 0; i < x.size(); ++i) {
            bool hit = false;
            switch (rule) {
                case 1: hit = std::fabs(x[i] - centre) > 3 * sigma; break;
                case 2: hit = beyond(x, i, 3, 2, centre, 2 * sigma); break;
                case 3: hit = beyond(x, i, 5, 4, centre, sigma); break;
                case 4: hit = beyond(x, i, 8, 8, centre, 0); break;
            }
            if (!hit) continue;
            if (!out.empty() && out.back().rule == rule && out.back().last + 1 == i) out.back().last = i;
            else out.push_back({rule, i, i});
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const RunAlarm& a, const RunAlarm& b) { return std::tie(a.first, a.rule) < std::tie(b.first, b.rule); });
    return out;
}

void StatsBuilder::add(const Certificate& c) {
    ++head_.certificates;
    if (head_.first_at.empty()) head_.first_at = c.finished_at;
    head_.last_at = c.finished_at;
    auto [it, first_test] = units_.try_emplace(c.unit.serial);
    auto& u = it->second;
    if (first_test) {
        u = {c.unit.variant, c.unit.lot, c.station.id, c.verdict, c.verdict, 0};
        unit_order_.push_back(c.unit.serial);
    }
    u.last = c.verdict;
    ++u.tests;
    ++tests_by_variant_[c.unit.variant];
    ++tests_by_lot_[c.unit.lot];
    ++tests_by_station_[c.station.id];
    for (const auto& s : c.steps) {
        auto [sit0, new_step] = steps_.try_emplace({c.unit.variant, s.id});
        if (new_step) step_order_.emplace_back(c.unit.variant, s.id);
        auto& sy = sit0->second;
        sy.variant = c.unit.variant;
        sy.step = s.id;
        ++sy.tests;
        const bool failed = s.verdict != Verdict::pass;
        sy.failures += failed;
        if (first_test) {
            ++sy.first_tests;
            sy.first_passed += !failed;
        }
        if (failed) ++step_failures_[s.id];
        for (const auto& m : s.measurements) {
            if (m.verdict != Verdict::pass) ++measurement_failures_[s.id + " / " + m.name];
            if (!m.text.empty() || !std::isfinite(m.value)) continue;
            auto key = std::make_tuple(c.unit.variant, s.id, m.name);
            auto [sit, fresh] = series_.try_emplace(key);
            auto& series = sit->second;
            if (fresh) {
                series.cap.variant = c.unit.variant;
                series.cap.step = s.id;
                series.cap.measurement = m.name;
                series_order_.push_back(key);
            }
            series.cap.unit = m.unit;
            if (!fresh && series.spec != m.limit_spec) series.cap.limits_changed = true;
            series.spec = m.limit_spec;
            series.cap.values.push_back(m.value);
            series.cap.serials.push_back(c.unit.serial);
            series.cap.failures += m.verdict != Verdict::pass;
        }
    }
}

namespace {

void capability(Capability& c, const std::optional<LimitSpec>& spec) {
    const auto& v = c.values;
    c.n = v.size();
    if (v.empty()) return;
    c.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    c.min = *std::min_element(v.begin(), v.end());
    c.max = *std::max_element(v.begin(), v.end());
    if (v.size() >= 2) {
        double ss = 0, mr = 0;
        for (double x : v) ss += (x - c.mean) * (x - c.mean);
        for (std::size_t i = 1; i < v.size(); ++i) mr += std::fabs(v[i] - v[i - 1]);
        c.sigma = std::sqrt(ss / double(v.size() - 1));
        c.sigma_within = mr / double(v.size() - 1) / 1.128;  // d2 of a moving range of 2
        // A constant reading (a firmware's API version) has no spread: rounding noise is not one.
        const double noise = 1e-9 * std::max(1.0, std::fabs(c.mean));
        if (c.sigma < noise) c.sigma = 0;
        if (c.sigma_within < noise) c.sigma_within = 0;
    }
    if (spec && spec->kind == LimitSpec::Kind::range) {
        c.lsl = spec->min;
        c.usl = spec->max;
    }
    auto indices = [&](double sigma, std::optional<double>& p, std::optional<double>& pk) {
        if (!(sigma > 0)) return;
        if (c.lsl && c.usl) p = (*c.usl - *c.lsl) / (6 * sigma);
        std::optional<double> lower, upper;
        if (c.lsl) lower = (c.mean - *c.lsl) / (3 * sigma);
        if (c.usl) upper = (*c.usl - c.mean) / (3 * sigma);
        if (lower && upper) pk = std::min(*lower, *upper);
        else if (lower) pk = lower;
        else if (upper) pk = upper;
    };
    indices(c.sigma_within, c.cp, c.cpk);
    indices(c.sigma, c.pp, c.ppk);
    c.alarms = western_electric(v, c.mean, c.sigma_within);
}

std::vector<ParetoRow> pareto(const std::map<std::string, std::uint64_t>& counts) {
    std::vector<ParetoRow> rows;
    std::uint64_t total = 0;
    for (const auto& [what, n] : counts) {
        rows.push_back({what, n, 0, 0});
        total += n;
    }
    std::stable_sort(rows.begin(), rows.end(), [](const ParetoRow& a, const ParetoRow& b) { return a.failures > b.failures; });
    double cumulative = 0;
    for (auto& r : rows) {
        r.share = double(r.failures) / double(total);
        cumulative += r.share;
        r.cumulative = cumulative;
    }
    return rows;
}

}  // namespace

Stats StatsBuilder::finish() const {
    Stats s = head_;
    s.units = units_.size();
    s.retests = s.certificates - s.units;
    std::map<std::string, YieldRow> variant, lot, station;
    for (const auto& serial : unit_order_) {
        const auto& u = units_.at(serial);
        for (auto* row : {&variant[u.variant], &lot[u.lot], &station[u.station], &s.total}) {
            ++row->units;
            row->first_pass += u.first == Verdict::pass;
            row->final_pass += u.last == Verdict::pass;
        }
    }
    s.total.key = "all";
    s.total.tests = s.certificates;
    auto rows = [](std::map<std::string, YieldRow>& m, const std::map<std::string, std::uint64_t>& tests) {
        std::vector<YieldRow> out;
        for (auto& [key, row] : m) {
            row.key = key;
            row.tests = tests.count(key) ? tests.at(key) : 0;
            out.push_back(row);
        }
        return out;
    };
    s.by_variant = rows(variant, tests_by_variant_);
    s.by_lot = rows(lot, tests_by_lot_);
    s.by_station = rows(station, tests_by_station_);
    for (const auto& key : step_order_) s.by_step.push_back(steps_.at(key));
    s.pareto_steps = pareto(step_failures_);
    s.pareto_measurements = pareto(measurement_failures_);
    for (const auto& key : series_order_) {
        const auto& series = series_.at(key);
        Capability c = series.cap;
        capability(c, series.spec);
        s.capability.push_back(std::move(c));
    }
    return s;
}

}  // namespace rig::reports
