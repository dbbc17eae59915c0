// Certificates as HTML: every measurement and limit on the page, each chart drawing what its
// data says, nothing loaded from anywhere, and no input able to inject markup.
#include <doctest/doctest.h>

#include <cmath>
#include <regex>

#include "reports/html.hpp"

using namespace rig::reports;

namespace {

Measurement numeric(std::string name, double v, std::optional<double> lo, std::optional<double> hi, Verdict verdict, std::string unit = "rpm") {
    LimitSpec l;
    l.min = lo;
    l.max = hi;
    l.unit = unit;
    std::string text = lo && hi ? "[" + format_number(*lo) + ", " + format_number(*hi) + "] " + unit : lo ? ">= " + format_number(*lo) : "<= " + format_number(*hi);
    return Measurement{std::move(name), v, unit, text, "", verdict, l};
}

VerifiedCertificate sample() {
    Certificate c;
    c.unit = {"FPV5-000103", "fpv5-bf", "LOT-DEMO-01"};
    c.verdict = Verdict::fail;
    c.station = {"line1-3", "JIG-0042", "2027-06-30", "0.1.0", 42, {}};
    c.station.instruments.push_back({"psu", "psu", "RIGSIM", "PSU3010", "SIM-PSU-0001", "1.4.2", "2026-10-31"});
    c.operator_id = "op7";
    c.plan = {"fpv5-bf", std::string(64, 'a')};
    c.dut = {"BTFL 2026.12.0", "S7X2", "0039002138db0a6136333935", {{"esc1", "E-1", "AM32", "2.1", "v1"}}};
    c.started_at = "2026-11-22T10:00:00.000Z";
    c.finished_at = "2026-11-22T10:00:09.000Z";
    StepRecord motors{"motors", "motors.spin", Verdict::fail, "motor 3 too slow", c.started_at, 6.5, {}};
    motors.measurements.push_back(numeric("motor1_rpm", 9950, 8500, 11500, Verdict::pass));
    motors.measurements.push_back(numeric("motor3_rpm", 7351, 8500, 11500, Verdict::fail));
    motors.measurements.push_back(numeric("motor1_current", 1.25, std::nullopt, 3.0, Verdict::pass, "A"));
    StepRecord identity{"identity", "fc.identity", Verdict::pass, "", c.started_at, 0.08, {}};
    LimitSpec eq;
    eq.kind = LimitSpec::Kind::equals;
    eq.equals_text = "BTFL";
    identity.measurements.push_back({"fc_variant", std::nan(""), "", "== BTFL", "BTFL", Verdict::pass, eq});
    LimitSpec zero;
    zero.kind = LimitSpec::Kind::equals;
    zero.equals_number = 0;
    identity.measurements.push_back({"config_problems", 0, "", "== 0", "", Verdict::pass, zero});
    identity.measurements.push_back({"vbat_fc", 16.79, "V", "", "", Verdict::pass, std::nullopt});
    identity.measurements.push_back(numeric("<script>alert(1)</script>", std::nan(""), 1, 2, Verdict::error, "V"));
    c.steps = {identity, motors};
    VerifiedCertificate v{c, to_json(c), "", "ed25519:0123456789abcdef"};
    v.sha256 = sha256_hex(v.payload);
    return v;
}

std::string svg_of(const std::string& html, const std::string& name) {
    const auto at = html.find("data-measurement=\"" + name + "\"");
    REQUIRE(at != std::string::npos);
    const auto start = html.rfind("<svg", at);
    return html.substr(start, html.find("</svg>", at) - start);
}

std::vector<double> numbers_after(const std::string& text, const std::string& attr) {
    std::vector<double> out;
    std::regex re(attr + "=\"([-0-9.]+)\"");
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) out.push_back(std::stod((*it)[1]));
    return out;
}

}  // namespace

TEST_CASE("the HTML certificate shows every measurement against its limit") {
    const auto v = sample();
    const auto html = certificates_html({{&v, "archive.sqlite row #42"}}, "2026-11-23T09:00:00.000Z");
    for (const auto& step : v.certificate.steps) {
        CHECK(html.find("data-step=\"" + step.id + "\"") != std::string::npos);
        for (const auto& m : step.measurements) {
            CAPTURE(m.name);
            CHECK(html.find(html_escape(m.name)) != std::string::npos);
            CHECK(html.find(m.limit.empty() ? "not judged" : html_escape(m.limit)) != std::string::npos);
        }
    }
    CHECK(html.find("7351 rpm") != std::string::npos);
    CHECK(html.find("1.25 A") != std::string::npos);
    CHECK(html.find("<td class=\"num\">BTFL</td>") != std::string::npos);
    CHECK(html.find("class=\"verdict v-fail\">FAIL</div>") != std::string::npos);
    CHECK(html.find("motor 3 too slow") != std::string::npos);
    CHECK(html.find("2026-10-31 <span class=\"bad-text\">OVERDUE at test time</span>") != std::string::npos);
    CHECK(html.find("2027-06-30 <span") == std::string::npos);
    CHECK(html.find("VERIFIED</span>: Ed25519 key ed25519:0123456789abcdef bound to station line1-3") != std::string::npos);
    CHECK(html.find(v.sha256) != std::string::npos);
    CHECK(html.find("archive.sqlite row #42") != std::string::npos);
    CHECK(html.find("E-1") != std::string::npos);
}

TEST_CASE("each band chart puts the value where it lies against the limits") {
    const auto v = sample();
    const auto html = certificates_html({{&v, "x"}}, "t");
    // In the band: the marker between the limit lines; outside: beyond the low one.
    for (auto [name, inside] : {std::pair{"motor1_rpm", true}, {"motor3_rpm", false}}) {
        CAPTURE(name);
        const auto svg = svg_of(html, name);
        const auto limits = numbers_after(svg, "x1");
        const auto marker = numbers_after(svg, "data-x");
        REQUIRE(limits.size() == 3);  // the axis, then the two limit lines
        REQUIRE(marker.size() == 1);
        CHECK((marker[0] > limits[1] && marker[0] < limits[2]) == inside);
        CHECK(svg.find(std::string("data-verdict=\"") + (inside ? "pass" : "fail") + "\"") != std::string::npos);
        CHECK(svg.find(inside ? "marker ok" : "marker bad") != std::string::npos);
        CHECK(svg.find("data-min=\"8500\" data-max=\"11500\"") != std::string::npos);
    }
    // One-sided: one limit line, the band open to the edge, the value inside it.
    const auto current = svg_of(html, "motor1_current");
    CHECK(current.find("data-value=\"1.25\" data-min=\"\" data-max=\"3\"") != std::string::npos);
    CHECK(numbers_after(current, "x1").size() == 2);
    CHECK(numbers_after(current, "data-x")[0] < numbers_after(current, "x1")[1]);
    // Numeric equals: a tick at the value; text and no-value measurements get no chart.
    CHECK(svg_of(html, "config_problems").find("data-min=\"0\" data-max=\"0\"") != std::string::npos);
    CHECK(html.find("data-measurement=\"fc_variant\"") == std::string::npos);
    CHECK(html.find("data-measurement=\"vbat_fc\"") == std::string::npos);
    CHECK(html.find("data-measurement=\"&lt;script&gt;") == std::string::npos);
}

TEST_CASE("the HTML certificate is self-contained and cannot be injected into") {
    const auto v = sample();
    const auto html = certificates_html({{&v, "x"}, {&v, "y"}}, "t");
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
    for (const char* external : {"http://", "https://", "src=", "@import", "url("}) CHECK(html.find(external) == std::string::npos);
    CHECK(html.find("default-src 'none'") != std::string::npos);
    CHECK(html.find("@page { size: A4;") != std::string::npos);
    // Two certificates: the second starts on a new printed page.
    CHECK(html.find(".cert + .cert { break-before: page;") != std::string::npos);
    std::size_t n = 0;
    for (auto at = html.find("<article class=\"cert\""); at != std::string::npos; at = html.find("<article class=\"cert\"", at + 1)) ++n;
    CHECK(n == 2);
    CHECK(html_escape("a\"b'<c>&\x1b") == "a&quot;b&#39;&lt;c&gt;&amp;\\x1B");
    CHECK(html_escape("мотор 3, 25 °C") == "мотор 3, 25 °C");  // UTF-8 stays readable
    CHECK(html_escape("bad \xff\xc3 end") == "bad \\xFF\\xC3 end");  // bytes that are not UTF-8 do not
}

TEST_CASE("numbers on the certificate") {
    CHECK(format_number(9950) == "9950");
    CHECK(format_number(0.27880000000000005) == "0.2788");
    CHECK(format_number(-4.000000000026205E-4) == "-0.0004");
    CHECK(format_number(0) == "0");
    CHECK(format_number(1.5e-7) == "1.5000e-07");
    CHECK(format_number(std::nan("")) == "no value");
}
