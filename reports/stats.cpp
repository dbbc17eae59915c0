#include "reports/stats.hpp"

#include <algorithm>
#include <cmath>
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

void StatsBuilder::add(const Certificate& c, const UnitPlace& place) {
    ++head_.certificates;
    if (head_.first_at.empty()) head_.first_at = c.finished_at;
    head_.last_at = c.finished_at;
    const bool first_test = place.first;
    for (auto* row : {&by_variant_[place.variant], &by_lot_[place.lot], &by_station_[place.station], &head_.total}) {
        row->units += place.first;
        row->first_pass += place.first && c.verdict == Verdict::pass;
        row->final_pass += place.last && c.verdict == Verdict::pass;
    }
    ++by_variant_[c.unit.variant].tests;
    ++by_lot_[c.unit.lot].tests;
    ++by_station_[c.station.id].tests;
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
            add_point(series, m.value, c.unit.serial);
            series.cap.failures += m.verdict != Verdict::pass;
        }
    }
}

// Streams one value into its series: Welford's mean and sum of squares, the moving range, the
// extremes, and the chart's window of the last points_ values.
void StatsBuilder::add_point(Series& series, double x, const std::string& serial) {
    auto& c = series.cap;
    ++c.n;
    if (c.n == 1) {
        c.min = c.max = x;
    } else {
        c.min = std::min(c.min, x);
        c.max = std::max(c.max, x);
        series.moving_range += std::fabs(x - series.last);
    }
    series.last = x;
    const double delta = x - c.mean;
    c.mean += delta / double(c.n);
    series.m2 += delta * (x - c.mean);
    if (c.values.size() == points_) {  // a ring would save the moves; a chart is a few hundred points
        c.values.erase(c.values.begin());
        c.serials.erase(c.serials.begin());
        ++c.first_point;
    }
    c.values.push_back(x);
    c.serials.push_back(serial);
}

namespace {

// The indices and run rules of a streamed series (its n, mean, extremes already summed).
void capability(Capability& c, const std::optional<LimitSpec>& spec, double m2, double moving_range) {
    if (c.n == 0) return;
    if (c.n >= 2) {
        c.sigma = std::sqrt(m2 / double(c.n - 1));
        c.sigma_within = moving_range / double(c.n - 1) / 1.128;  // d2 of a moving range of 2
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
    c.alarms = western_electric(c.values, c.mean, c.sigma_within);
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
    s.units = s.total.units;
    s.retests = s.certificates - s.units;
    s.total.key = "all";
    s.total.tests = s.certificates;
    auto rows = [](const std::map<std::string, YieldRow>& m) {
        std::vector<YieldRow> out;
        for (const auto& [key, row] : m) {
            out.push_back(row);
            out.back().key = key;
        }
        return out;
    };
    s.by_variant = rows(by_variant_);
    s.by_lot = rows(by_lot_);
    s.by_station = rows(by_station_);
    for (const auto& key : step_order_) s.by_step.push_back(steps_.at(key));
    s.pareto_steps = pareto(step_failures_);
    s.pareto_measurements = pareto(measurement_failures_);
    for (const auto& key : series_order_) {
        const auto& series = series_.at(key);
        Capability c = series.cap;
        capability(c, series.spec, series.m2, series.moving_range);
        s.capability.push_back(std::move(c));
    }
    return s;
}

}  // namespace rig::reports
