// Certificates a person can read: one self-contained HTML page (inline CSS and SVG, nothing
// loaded from anywhere, a CSP that forbids it) that prints on A4. Every measurement is drawn
// against its limit as an SVG band chart whose data-* attributes carry the numbers drawn.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "reports/verify.hpp"

namespace rig::reports {

std::string html_escape(std::string_view text);

// A number as certificates show it: up to 6 significant digits, no exponent for ordinary values.
std::string format_number(double v);

// The band chart of one numeric measurement against a range or numeric equals limit: the
// pass band, the limit ticks and the value's marker; empty for text limits or no value.
// width × 30 px.
std::string band_svg(const Measurement& m, int width = 240);

struct HtmlCertificate {
    const VerifiedCertificate* certificate;
    std::string source;  // where it was read: "archive.sqlite row #12", a file, a bundle entry
};

// The page: one certificate after the other, each starting on a new printed page.
std::string certificates_html(const std::vector<HtmlCertificate>& certificates, const std::string& rendered_at);

}  // namespace rig::reports
