#include "reports/html.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fmt/format.h>

#include "reports/text.hpp"

namespace rig::reports {

namespace {
std::string to_upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}
}  // namespace

namespace {
// The length of the valid UTF-8 sequence at text[i], or 0.
std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    if (n == 0 || i + n > text.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
    return n;
}
}  // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            // Text in any language stays readable; a byte that is not UTF-8 is shown as \xNN.
            if (auto n = utf8_length(text, i)) {
                out.append(text.substr(i, n));
                i += n - 1;
            } else {
                out += fmt::format("\\x{:02X}", c);
            }
            continue;
        }
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default:
                if (c < 0x20 || c == 0x7F) out += fmt::format("\\x{:02X}", c);
                else out += static_cast<char>(c);
        }
    }
    return out;
}

std::string format_number(double v) {
    if (std::isnan(v)) return "no value";
    if (v == 0) return "0";
    const double a = std::fabs(v);
    if (a >= 1e-4 && a < 1e9) {
        auto s = fmt::format("{:.6g}", v);
        return s;
    }
    return fmt::format("{:.4e}", v);
}

namespace {

// The domain the chart shows: the limits with a quarter of their span either side, widened
// to hold the value.
struct Domain {
    double lo, hi;
    double x(double v, int width) const { return 8 + (v - lo) / (hi - lo) * (width - 16); }
};

Domain domain_for(double band_lo, double band_hi, double value) {
    double span = band_hi - band_lo;
    if (!(span > 0)) span = std::max(std::fabs(band_lo), 1.0) * 0.2;
    Domain d{band_lo - span * 0.25, band_hi + span * 0.25};
    if (!std::isnan(value)) {
        d.lo = std::min(d.lo, value - span * 0.1);
        d.hi = std::max(d.hi, value + span * 0.1);
    }
    return d;
}

}  // namespace

std::string band_svg(const Measurement& m, int width) {
    if (!m.limit_spec || !m.text.empty() || std::isnan(m.value)) return {};
    const auto& l = *m.limit_spec;
    std::optional<double> lo, hi;
    if (l.kind == LimitSpec::Kind::range) {
        lo = l.min;
        hi = l.max;
    } else if (l.kind == LimitSpec::Kind::equals && l.equals_number) {
        lo = hi = *l.equals_number;
    } else {
        return {};
    }
    if (!lo && !hi) return {};
    // An open side reaches past the value to the chart's edge.
    const double v = m.value;
    const double a = lo ? *lo : std::min(v, *hi) - std::max(std::fabs(*hi), 1.0) * 0.5;
    const double b = hi ? *hi : std::max(v, *lo) + std::max(std::fabs(*lo), 1.0) * 0.5;
    const auto d = domain_for(a, b, v);
    const double x0 = lo ? d.x(*lo, width) : 0, x1 = hi ? d.x(*hi, width) : width;
    const double xv = std::clamp(d.x(v, width), 2.0, width - 2.0);
    const bool pass = m.verdict == Verdict::pass;
    std::string svg = fmt::format(
        R"(<svg class="band" width="{w}" height="30" viewBox="0 0 {w} 30" role="img" aria-label="{name}: {val} against {lim}" )"
        R"(data-measurement="{name}" data-value="{v}" data-min="{mn}" data-max="{mx}" data-verdict="{verdict}">)",
        fmt::arg("w", width), fmt::arg("name", html_escape(m.name)), fmt::arg("val", format_number(v)), fmt::arg("lim", html_escape(m.limit)),
        fmt::arg("v", v), fmt::arg("mn", lo ? fmt::format("{}", *lo) : ""), fmt::arg("mx", hi ? fmt::format("{}", *hi) : ""),
        fmt::arg("verdict", to_string(m.verdict)));
    svg += fmt::format(R"(<line x1="0" y1="12" x2="{}" y2="12" class="axis"/>)", width);
    svg += fmt::format(R"(<rect class="pass-band" x="{:.1f}" y="5" width="{:.1f}" height="14"/>)", x0, std::max(x1 - x0, 2.0));
    if (lo) svg += fmt::format(R"(<line class="limit" x1="{0:.1f}" y1="2" x2="{0:.1f}" y2="22"/><text x="{0:.1f}" y="29" text-anchor="middle">{1}</text>)", x0,
                               format_number(*lo));
    if (hi && (!lo || *hi != *lo))
        svg += fmt::format(R"(<line class="limit" x1="{0:.1f}" y1="2" x2="{0:.1f}" y2="22"/><text x="{0:.1f}" y="29" text-anchor="middle">{1}</text>)", x1,
                           format_number(*hi));
    svg += fmt::format(R"(<path class="marker {}" data-x="{:.1f}" d="M{:.1f} 5 l5 7 l-5 7 l-5 -7 z"/>)", pass ? "ok" : "bad", xv, xv);
    svg += "</svg>";
    return svg;
}

namespace {

constexpr const char* kStyle = R"css(
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font: 10pt/1.35 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111; margin: 0 auto; max-width: 190mm; padding: 8mm 0; }
.cert + .cert { break-before: page; page-break-before: always; margin-top: 12mm; }
header { display: flex; justify-content: space-between; align-items: center; border-bottom: 2px solid #111; padding-bottom: 3mm; }
h1 { font-size: 16pt; margin: 0; } h2 { font-size: 11pt; margin: 5mm 0 1.5mm; } h3 { font-size: 10pt; margin: 0; }
.verdict { font-size: 20pt; font-weight: 700; padding: 1mm 5mm; border-radius: 2mm; color: #fff; }
.v-pass { background: #1b7f3b; } .v-fail { background: #b3261e; } .v-error { background: #c25e00; }
.chip { font-weight: 700; font-size: 8pt; padding: 0 1.5mm; border-radius: 1mm; color: #fff; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.6mm 1.5mm; vertical-align: middle; border-bottom: 0.2mm solid #ccc; }
th { font-size: 8pt; color: #444; font-weight: 600; }
.facts td:first-child { color: #444; width: 38mm; }
.step { break-inside: avoid; page-break-inside: avoid; margin-top: 3mm; }
.step-head { display: flex; gap: 3mm; align-items: baseline; }
.msg { color: #b3261e; margin: 0.5mm 0; }
.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.m-fail td, tr.m-error td { background: #fdecea; }
.ok-text { color: #1b7f3b; font-weight: 700; } .bad-text { color: #b3261e; font-weight: 700; }
table.measurements { table-layout: fixed; }
table.measurements td { overflow-wrap: anywhere; white-space: normal; }
svg.band { display: block; width: 100%; height: auto; max-width: 240px; } svg.band text { font-size: 7px; fill: #444; }
svg .axis { stroke: #999; stroke-width: 1; } svg .pass-band { fill: #cfe8d5; stroke: #1b7f3b; stroke-width: 0.5; }
svg .limit { stroke: #1b7f3b; stroke-width: 1.2; } svg .marker.ok { fill: #111; } svg .marker.bad { fill: #b3261e; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; }
footer { margin-top: 5mm; font-size: 8pt; color: #555; border-top: 0.2mm solid #ccc; padding-top: 1.5mm; }
)css";

std::string fact(std::string_view name, std::string_view value) { return fmt::format("<tr><td>{}</td><td>{}</td></tr>", name, value); }
std::string esc(std::string_view s) { return s.empty() ? "—" : html_escape(s); }

std::string unit_section(const Certificate& c) {
    std::string s = "<h2>Unit</h2><table class=\"facts\">";
    s += fact("Serial", esc(c.unit.serial)) + fact("Variant", esc(c.unit.variant)) + fact("Lot", esc(c.unit.lot));
    s += fact("Firmware", esc(c.dut.firmware)) + fact("Board", esc(c.dut.board)) + fact("UID", "<span class=\"hash\">" + esc(c.dut.uid) + "</span>");
    s += "</table>";
    if (!c.dut.parts.empty()) {
        s += "<h2>Parts</h2><table><tr><th>Position</th><th>Part</th><th>Serial</th><th>Firmware</th><th>Hardware</th></tr>";
        for (const auto& p : c.dut.parts)
            s += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"hash\">{}</td><td>{}</td><td>{}</td></tr>", esc(p.position), esc(p.name),
                             esc(p.serial), esc(p.firmware), esc(p.hardware));
        s += "</table>";
    }
    return s;
}

// A calibration due before the test's day was overdue when the unit was measured.
std::string due(const std::string& date, const std::string& tested_at) {
    if (date.empty()) return "—";
    if (date < tested_at.substr(0, 10)) return html_escape(date) + " <span class=\"bad-text\">OVERDUE at test time</span>";
    return html_escape(date);
}

std::string station_section(const Certificate& c) {
    std::string s = "<h2>Station</h2><table class=\"facts\">";
    s += fact("Station", esc(c.station.id) + fmt::format(", certificate #{}", c.station.sequence));
    s += fact("Fixture", esc(c.station.fixture_id) + ", calibration due " + due(c.station.calibration_due, c.finished_at));
    s += fact("Software", "rig " + esc(c.station.software_version));
    s += fact("Operator", esc(c.operator_id));
    s += fact("Plan", esc(c.plan.id) + " <span class=\"hash\">sha256 " + esc(c.plan.sha256) + "</span>");
    s += fact("Tested", esc(c.started_at) + " to " + esc(c.finished_at));
    s += "</table>";
    if (!c.station.instruments.empty()) {
        s += "<h2>Instruments</h2><table><tr><th>Name</th><th>Type</th><th>Instrument</th><th>Serial</th><th>Firmware</th><th>Calibration due</th></tr>";
        for (const auto& i : c.station.instruments)
            s += fmt::format("<tr><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(i.name), esc(i.type),
                             html_escape(i.vendor), html_escape(i.model), esc(i.serial), esc(i.firmware), due(i.calibration_due, c.finished_at));
        s += "</table>";
    }
    return s;
}

std::string verification_section(const HtmlCertificate& h) {
    const auto& v = *h.certificate;
    std::string s = "<h2>Verification</h2><table class=\"facts\">";
    s += fact("Signature", fmt::format("<span class=\"ok-text\">VERIFIED</span>: Ed25519 key {} bound to station {} at {}", html_escape(v.keyid),
                                       esc(v.certificate.station.id), esc(v.certificate.finished_at)));
    s += fact("Certificate", "<span class=\"hash\">sha256 " + esc(v.sha256) + "</span>");
    s += fact("Previous", "<span class=\"hash\">" + (v.certificate.previous_sha256.empty() ? std::string("none: the station's first certificate")
                                                                                           : "sha256 " + esc(v.certificate.previous_sha256)) + "</span>");
    s += fact("Read from", esc(h.source));
    s += "</table>";
    return s;
}

std::string measurement_row(const Measurement& m) {
    const std::string value = !m.text.empty() ? html_escape(m.text) : format_number(m.value) + (m.unit.empty() ? "" : " " + html_escape(m.unit));
    const char* cls = m.verdict == Verdict::pass ? "ok-text" : "bad-text";
    const auto chart = band_svg(m);
    return fmt::format("<tr class=\"m-{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
                       to_string(m.verdict), html_escape(m.name), value, m.limit.empty() ? "not judged" : html_escape(m.limit), cls,
                       m.limit_spec || !m.limit.empty() ? to_upper(to_string(m.verdict)) : "—", chart);
}

std::string steps_section(const Certificate& c) {
    std::string s = fmt::format("<h2>Steps ({})</h2>", c.steps.size());
    for (const auto& step : c.steps) {
        s += fmt::format("<section class=\"step\" data-step=\"{}\"><div class=\"step-head\"><span class=\"chip v-{}\">{}</span><h3>{}</h3><span>{}</span>"
                         "<span class=\"num\">{:.2f} s</span></div>",
                         html_escape(step.id), to_string(step.verdict), to_upper(to_string(step.verdict)), html_escape(step.id), html_escape(step.kind),
                         step.duration_s);
        if (!step.message.empty()) s += "<p class=\"msg\">" + html_escape(step.message) + "</p>";
        if (!step.measurements.empty()) {
            s += "<table class=\"measurements\"><colgroup><col style=\"width:24%\"><col style=\"width:17%\"><col style=\"width:18%\">"
                 "<col style=\"width:8%\"><col style=\"width:33%\"></colgroup>"
                 "<tr><th>Measurement</th><th>Value</th><th>Limit</th><th>Verdict</th><th>Against its limit</th></tr>";
            for (const auto& m : step.measurements) s += measurement_row(m);
            s += "</table>";
        }
        s += "</section>";
    }
    return s;
}

}  // namespace

std::string certificates_html(const std::vector<HtmlCertificate>& certificates, const std::string& rendered_at) {
    std::string title = certificates.empty() ? std::string("rig certificate")
                                             : fmt::format("rig certificate {}", html_escape(certificates.front().certificate->certificate.unit.serial));
    std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
                    "<meta name=\"viewport\" content=\"width=device-width\"><title>" + title + "</title><style>" + kStyle + "</style></head><body>\n";
    for (const auto& h : certificates) {
        const auto& c = h.certificate->certificate;
        s += fmt::format("<article class=\"cert\" data-serial=\"{}\" data-sha256=\"{}\"><header><div><h1>{}</h1><div>{} · lot {} · station {} #{}</div></div>"
                         "<div class=\"verdict v-{}\">{}</div></header>",
                         html_escape(c.unit.serial), h.certificate->sha256, html_escape(c.unit.serial), html_escape(c.unit.variant), html_escape(c.unit.lot),
                         html_escape(c.station.id), c.station.sequence, to_string(c.verdict), to_upper(to_string(c.verdict)));
        s += unit_section(c) + station_section(c) + verification_section(h) + steps_section(c);
        s += fmt::format("<footer>Test certificate {} of station {}, schema {}. Rendered {} by rig from the signed payload; the signed DSSE envelope, "
                         "not this page, is the record (rigctl verify).</footer></article>\n",
                         c.station.sequence, html_escape(c.station.id), html_escape(c.schema), html_escape(rendered_at));
    }
    s += "</body></html>\n";
    return s;
}

}  // namespace rig::reports
