// Statistics as text, JSON and HTML with SVG charts.
#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <fmt/format.h>

#include "reports/html.hpp"
#include "reports/stats.hpp"

namespace rig::reports {
namespace json = boost::json;

namespace {

std::string pct(double f) { return fmt::format("{:.1f} %", f * 100); }
std::string opt(const std::optional<double>& v, const char* fmt_spec = "{:.3f}") { return v ? fmt::format(fmt::runtime(fmt_spec), *v) : "-"; }
std::string series_name(const Capability& c) { return c.variant + " " + c.step + "/" + c.measurement; }

std::string alarm_text(const Capability& c, const RunAlarm& a) {
    const auto first = c.first_point + a.first + 1, last = c.first_point + a.last + 1;  // numbered in the whole series
    const auto points = a.first == a.last ? fmt::format("point {} ({})", first, c.serials[a.first])
                                          : fmt::format("points {}..{} ({}..{})", first, last, c.serials[a.first], c.serials[a.last]);
    return fmt::format("rule {} ({}) at {}", a.rule, rule_text(a.rule), points);
}

}  // namespace

std::string stats_text(const Stats& s) {
    std::string out = fmt::format("rig statistics: {} certificates of {} units ({} retests), {} .. {}\n\n", s.certificates, s.units, s.retests,
                                  s.first_at.empty() ? "-" : s.first_at, s.last_at.empty() ? "-" : s.last_at);
    out += fmt::format("{:<32} {:>7} {:>7} {:>10} {:>8} {:>10} {:>8}\n", "yield", "units", "tests", "first pass", "FPY", "final pass", "yield");
    auto yield_rows = [&](const char* kind, const std::vector<YieldRow>& rows) {
        for (const auto& r : rows)
            out += fmt::format("{:<32} {:>7} {:>7} {:>10} {:>8} {:>10} {:>8}\n", std::string(kind) + r.key, r.units, r.tests, r.first_pass, pct(r.fpy()),
                               r.final_pass, pct(r.yield()));
    };
    yield_rows("", {s.total});
    yield_rows("variant ", s.by_variant);
    yield_rows("lot ", s.by_lot);
    yield_rows("station ", s.by_station);
    out += fmt::format("\n{:<32} {:>7} {:>9} {:>12} {:>8}\n", "step (variant step)", "tests", "failures", "first tests", "FPY");
    for (const auto& st : s.by_step)
        out += fmt::format("{:<32} {:>7} {:>9} {:>12} {:>8}\n", st.variant + " " + st.step, st.tests, st.failures, st.first_tests, pct(st.fpy()));
    for (auto [title, rows] : {std::pair{"failure Pareto by step", &s.pareto_steps}, {"failure Pareto by measurement", &s.pareto_measurements}}) {
        out += fmt::format("\n{:<40} {:>9} {:>8} {:>10}\n", title, "failures", "share", "cumulative");
        if (rows->empty()) out += "  (no failures)\n";
        for (const auto& r : *rows) out += fmt::format("  {:<38} {:>9} {:>8} {:>10}\n", r.what, r.failures, pct(r.share), pct(r.cumulative));
    }
    out += "\ncapability (Cp/Cpk: sigma within = average moving range / 1.128; Pp/Ppk: overall sigma)\n";
    out += fmt::format("{:<40} {:>6} {:>11} {:>10} {:>10} {:>10} {:>10} {:>7} {:>7} {:>7} {:>7} {:>6}\n", "variant step/measurement", "n", "mean", "sigma",
                       "sigma in", "LSL", "USL", "Cp", "Cpk", "Pp", "Ppk", "alarms");
    for (const auto& c : s.capability)
        out += fmt::format("{:<40} {:>6} {:>11.5g} {:>10.4g} {:>10.4g} {:>10} {:>10} {:>7} {:>7} {:>7} {:>7} {:>6}\n", series_name(c), c.n, c.mean, c.sigma,
                           c.sigma_within, opt(c.lsl, "{:.5g}"), opt(c.usl, "{:.5g}"), opt(c.cp, "{:.2f}"), opt(c.cpk, "{:.2f}"), opt(c.pp, "{:.2f}"),
                           opt(c.ppk, "{:.2f}"), c.alarms.size());
    std::size_t alarms = 0;
    for (const auto& c : s.capability) alarms += c.alarms.size();
    out += fmt::format("\nrun-rule alarms (Western Electric, on the individuals chart): {}\n", alarms);
    for (const auto& c : s.capability) {
        if (c.limits_changed) out += fmt::format("  {}: its limits changed within the selection; capability uses the newest\n", series_name(c));
        for (const auto& a : c.alarms) out += fmt::format("  {}: {}\n", series_name(c), alarm_text(c, a));
    }
    return out;
}

std::string stats_json(const Stats& s) {
    auto yield = [](const YieldRow& r) {
        return json::object{{"key", r.key}, {"units", r.units}, {"tests", r.tests}, {"first_pass", r.first_pass}, {"fpy", r.fpy()},
                            {"final_pass", r.final_pass}, {"yield", r.yield()}};
    };
    auto rows = [&](const std::vector<YieldRow>& v) {
        json::array a;
        for (const auto& r : v) a.push_back(yield(r));
        return a;
    };
    auto pareto = [](const std::vector<ParetoRow>& v) {
        json::array a;
        for (const auto& r : v) a.push_back(json::object{{"what", r.what}, {"failures", r.failures}, {"share", r.share}, {"cumulative", r.cumulative}});
        return a;
    };
    auto num = [](const std::optional<double>& v) { return v ? json::value(*v) : json::value(nullptr); };
    json::array steps, caps;
    for (const auto& st : s.by_step)
        steps.push_back(json::object{{"variant", st.variant}, {"step", st.step}, {"tests", st.tests}, {"failures", st.failures},
                                     {"first_tests", st.first_tests}, {"first_passed", st.first_passed}, {"fpy", st.fpy()}});
    for (const auto& c : s.capability) {
        json::array alarms;
        for (const auto& a : c.alarms)
            alarms.push_back(json::object{{"rule", a.rule}, {"text", rule_text(a.rule)}, {"first", c.first_point + a.first}, {"last", c.first_point + a.last},
                                          {"first_serial", c.serials[a.first]}, {"last_serial", c.serials[a.last]}});
        caps.push_back(json::object{{"variant", c.variant}, {"step", c.step}, {"measurement", c.measurement}, {"unit", c.unit}, {"n", c.n},
                                    {"failures", c.failures}, {"mean", c.mean}, {"sigma", c.sigma}, {"sigma_within", c.sigma_within}, {"min", c.min},
                                    {"max", c.max}, {"lsl", num(c.lsl)}, {"usl", num(c.usl)}, {"cp", num(c.cp)}, {"cpk", num(c.cpk)}, {"pp", num(c.pp)},
                                    {"ppk", num(c.ppk)}, {"limits_changed", c.limits_changed}, {"chart_first_point", c.first_point},
                                    {"chart_points", c.values.size()}, {"alarms", std::move(alarms)}});
    }
    json::object o{{"certificates", s.certificates}, {"units", s.units}, {"retests", s.retests}, {"first_at", s.first_at}, {"last_at", s.last_at},
                   {"total", yield(s.total)}, {"by_variant", rows(s.by_variant)}, {"by_lot", rows(s.by_lot)}, {"by_station", rows(s.by_station)},
                   {"by_step", std::move(steps)}, {"pareto_steps", pareto(s.pareto_steps)}, {"pareto_measurements", pareto(s.pareto_measurements)},
                   {"capability", std::move(caps)}};
    return json::serialize(o) + "\n";
}

namespace {

std::string pareto_svg(const std::vector<ParetoRow>& rows, const char* kind) {
    if (rows.empty()) return "<p>No failures.</p>";
    const std::size_t n = std::min<std::size_t>(rows.size(), 15);
    const double width = 700, height = 200, left = 90, bottom = 150, bar = std::min(60.0, (width - left - 10) / double(n));
    const double top = double(rows.front().failures);
    std::string svg = fmt::format(R"(<svg class="pareto" data-kind="{}" width="{}" height="{}" viewBox="0 0 {} {}">)", kind, width, height, width, height);
    std::string line;
    for (std::size_t i = 0; i < n; ++i) {
        const double h = double(rows[i].failures) / top * 130, x = left + bar * double(i);
        svg += fmt::format(R"(<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" data-what="{}" data-failures="{}"/>)", x + 2, bottom - h,
                           bar - 4, h, html_escape(rows[i].what), rows[i].failures);
        svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", x + bar / 2, bottom - h - 3, rows[i].failures);
        svg += fmt::format(R"x(<text class="label" x="{:.1f}" y="{}" text-anchor="end" transform="rotate(-30 {:.1f} {})">{}</text>)x", x + bar / 2, bottom + 12,
                           x + bar / 2, bottom + 12, html_escape(rows[i].what));
        line += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", x + bar / 2, bottom - rows[i].cumulative * 130);
    }
    svg += fmt::format(R"(<polyline class="cumulative" points="{}"/><line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/></svg>)", line, left, bottom, width - 10,
                       bottom);
    return svg;
}

std::string control_chart(const Capability& c) {
    const double width = 700, height = 170, left = 60, right = 10, top = 10, bottom = 150;
    const double ucl = c.mean + 3 * c.sigma_within, lcl = c.mean - 3 * c.sigma_within;
    // Scaled to the points drawn (and the control and specification limits).
    double lo = lcl, hi = ucl;
    for (double v : c.values) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    if (c.lsl) lo = std::min(lo, *c.lsl);
    if (c.usl) hi = std::max(hi, *c.usl);
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    const double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    auto y = [&](double v) { return bottom - (v - lo) / (hi - lo) * (bottom - top); };
    const std::size_t points = c.values.size();  // the series' last points (all of them unless it is long)
    auto x = [&](std::size_t i) { return points > 1 ? left + (width - left - right) * double(i) / double(points - 1) : (left + width) / 2; };
    std::string svg = fmt::format(R"(<svg class="control" width="{}" height="{}" viewBox="0 0 {} {}" data-measurement="{}" data-n="{}" data-points="{}" )"
                                  R"(data-first-point="{}" data-mean="{}" data-ucl="{}" data-lcl="{}" data-alarms="{}">)",
                                  width, height, width, height, html_escape(series_name(c)), c.n, points, c.first_point + 1, c.mean, ucl, lcl, c.alarms.size());
    auto hline = [&](double v, const char* cls, const std::string& label) {
        svg += fmt::format(R"(<line class="{}" x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}"/><text x="{}" y="{:.1f}" text-anchor="end">{}</text>)", cls, left,
                           y(v), width - right, y(v), left - 3, y(v) + 3, label);
    };
    for (int k : {-2, -1, 1, 2}) hline(c.mean + k * c.sigma_within, "zone", "");
    hline(c.mean, "centre", "x̄ " + format_number(c.mean));
    if (c.sigma_within > 0) {
        hline(ucl, "ucl", "UCL " + format_number(ucl));
        hline(lcl, "ucl", "LCL " + format_number(lcl));
    }
    if (c.lsl) hline(*c.lsl, "spec", "LSL " + format_number(*c.lsl));
    if (c.usl) hline(*c.usl, "spec", "USL " + format_number(*c.usl));
    std::string line;
    for (std::size_t i = 0; i < points; ++i) line += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", x(i), y(c.values[i]));
    svg += fmt::format(R"(<polyline class="series" points="{}"/>)", line);
    std::vector<bool> alarmed(points, false);
    for (const auto& a : c.alarms)
        for (std::size_t i = a.first; i <= a.last; ++i) alarmed[i] = true;
    if (points <= 2000)
        for (std::size_t i = 0; i < points; ++i)
            svg += fmt::format(R"(<circle class="{}" cx="{:.1f}" cy="{:.1f}" r="{}"><title>{}: {}</title></circle>)", alarmed[i] ? "alarm" : "point", x(i),
                               y(c.values[i]), alarmed[i] ? 3.5 : 2, html_escape(c.serials[i]), format_number(c.values[i]));
    svg += "</svg>";
    return svg;
}

constexpr const char* kStatsStyle = R"css(
@page { size: A4 landscape; margin: 12mm; }
body { font: 10pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 270mm; padding: 6mm 0; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11pt; margin: 6mm 0 2mm; } h3 { font-size: 9.5pt; margin: 4mm 0 1mm; }
table { border-collapse: collapse; } th, td { padding: 0.5mm 2mm; border-bottom: 0.2mm solid #ccc; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { font-size: 8pt; color: #444; }
.low { color: #b3261e; font-weight: 700; } .chart { break-inside: avoid; page-break-inside: avoid; }
svg text { font-size: 8px; fill: #444; } svg .bar { fill: #b3261e; } svg .cumulative { fill: none; stroke: #111; stroke-width: 1.2; }
svg .axis { stroke: #999; } svg .zone { stroke: #eee; } svg .centre { stroke: #1b5fbf; } svg .ucl { stroke: #b3261e; stroke-dasharray: 4 3; }
svg .spec { stroke: #1b7f3b; stroke-width: 1.5; } svg .series { fill: none; stroke: #555; stroke-width: 0.8; }
svg .point { fill: #111; } svg .alarm { fill: #b3261e; } .alarms { color: #b3261e; margin: 0; }
)css";

// Capability below 1.33 is what a QA engineer looks at first.
std::string index_cell(const std::optional<double>& v) {
    if (!v) return "<td>-</td>";
    return fmt::format("<td{}>{:.2f}</td>", *v < 1.33 ? " class=\"low\"" : "", *v);
}

}  // namespace

std::string stats_html(const Stats& s, const std::string& title, const std::string& rendered_at) {
    std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"><title>" +
                    html_escape(title) + "</title><style>" + kStatsStyle + "</style></head><body>\n";
    h += fmt::format("<h1>{}</h1><p>{} certificates of {} units ({} retests), {} to {}. Rendered {}.</p>", html_escape(title), s.certificates, s.units,
                     s.retests, html_escape(s.first_at), html_escape(s.last_at), html_escape(rendered_at));
    h += "<h2>Yield</h2><table id=\"yield\"><tr><th></th><th>units</th><th>tests</th><th>first pass</th><th>FPY</th><th>final pass</th><th>yield</th></tr>";
    auto yield_rows = [&](const char* kind, const std::vector<YieldRow>& rows) {
        for (const auto& r : rows)
            h += fmt::format("<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", kind, html_escape(r.key), r.units, r.tests,
                             r.first_pass, pct(r.fpy()), r.final_pass, pct(r.yield()));
    };
    yield_rows("", {s.total});
    yield_rows("variant ", s.by_variant);
    yield_rows("lot ", s.by_lot);
    yield_rows("station ", s.by_station);
    h += "</table><h2>Steps</h2><table id=\"steps\"><tr><th>variant / step</th><th>tests</th><th>failures</th><th>first tests</th><th>FPY</th></tr>";
    for (const auto& st : s.by_step)
        h += fmt::format("<tr><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", html_escape(st.variant), html_escape(st.step), st.tests,
                         st.failures, st.first_tests, pct(st.fpy()));
    h += "</table><h2>Failure Pareto by step</h2>" + pareto_svg(s.pareto_steps, "step");
    h += "<h2>Failure Pareto by measurement</h2>" + pareto_svg(s.pareto_measurements, "measurement");
    h += "<h2>Capability</h2><p>Cp/Cpk with σ within (average moving range / 1.128); Pp/Ppk with the overall σ. Below 1.33 in red.</p>"
         "<table id=\"capability\"><tr><th>variant step/measurement</th><th>n</th><th>mean</th><th>σ</th><th>σ within</th><th>LSL</th><th>USL</th>"
         "<th>Cp</th><th>Cpk</th><th>Pp</th><th>Ppk</th><th>alarms</th></tr>";
    for (const auto& c : s.capability)
        h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}{}{}{}<td>{}</td></tr>", html_escape(series_name(c)),
                         c.n, format_number(c.mean), format_number(c.sigma), format_number(c.sigma_within), c.lsl ? format_number(*c.lsl) : "-",
                         c.usl ? format_number(*c.usl) : "-", index_cell(c.cp), index_cell(c.cpk), index_cell(c.pp), index_cell(c.ppk), c.alarms.size());
    h += "</table><h2>Control charts</h2>";
    for (const auto& c : s.capability) {
        h += fmt::format("<div class=\"chart\"><h3>{} [{}]{}{}</h3>", html_escape(series_name(c)), html_escape(c.unit),
                         c.first_point ? fmt::format(" — points {}..{} of {} (centre and limits from all)", c.first_point + 1, c.n, c.n) : "",
                         c.limits_changed ? " — its limits changed within the selection" : "");
        h += control_chart(c);
        for (const auto& a : c.alarms) h += "<p class=\"alarms\">" + html_escape(alarm_text(c, a)) + "</p>";
        h += "</div>";
    }
    h += "</body></html>\n";
    return h;
}

}  // namespace rig::reports
