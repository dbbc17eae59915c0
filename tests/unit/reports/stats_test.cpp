// Statistics against values worked out by hand (the working is in the comments).
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "reports/stats.hpp"
#include "reports/text.hpp"

using namespace rig::reports;

namespace {

Measurement rpm(double v, Verdict verdict = Verdict::pass, double lo = 8500, double hi = 11500) {
    LimitSpec l;
    l.min = lo;
    l.max = hi;
    l.unit = "rpm";
    return {"motor3_rpm", v, "rpm", "[8500, 11500] rpm", "", verdict, l};
}

Certificate cert(const std::string& serial, bool motors_pass, bool vtx_pass, const std::string& station = "line1-3", double motor3 = 10000) {
    Certificate c;
    c.unit = {serial, "fpv5-bf", "LOT-A"};
    c.station.id = station;
    c.finished_at = "2026-11-22T10:00:00.000Z";
    StepRecord motors{"motors", "motors.spin", motors_pass ? Verdict::pass : Verdict::fail, "", "", 1, {rpm(motor3, motors_pass ? Verdict::pass : Verdict::fail)}};
    LimitSpec power;
    power.min = 23;
    power.max = 27;
    StepRecord vtx{"vtx", "vtx.power", vtx_pass ? Verdict::pass : Verdict::fail, "", "", 1,
                   {{"power", vtx_pass ? 25.0 : 20.0, "dBm", "[23, 27] dBm", "", vtx_pass ? Verdict::pass : Verdict::fail, power}}};
    c.steps = {motors, vtx};
    c.verdict = motors_pass && vtx_pass ? Verdict::pass : Verdict::fail;
    return c;
}

// Feeds certificates in order with the places rigctl reads from the archive's serial index:
// worked out here over the whole list.
Stats build(const std::vector<Certificate>& certs, std::size_t points = StatsBuilder::kDefaultPoints) {
    StatsBuilder b(points);
    for (std::size_t i = 0; i < certs.size(); ++i) {
        UnitPlace place;
        const Certificate* first = nullptr;
        for (std::size_t j = 0; j < certs.size(); ++j) {
            if (certs[j].unit.serial != certs[i].unit.serial) continue;
            if (!first) first = &certs[j];
            place.first = place.first && j >= i;
            place.last = place.last && j <= i;
        }
        place.variant = first->unit.variant;
        place.lot = first->unit.lot;
        place.station = first->station.id;
        b.add(certs[i], place);
    }
    return b.finish();
}

}  // namespace

TEST_CASE("yield, first-pass yield and retests count units by their first and last verdicts") {
    // A passes; B fails then passes on retest; C fails twice; D passes on another station.
    const auto s = build({cert("A", true, true), cert("B", false, true, "line1-3", 7300), cert("C", false, true, "line1-3", 7200),
                          cert("D", true, true, "line1-4"), cert("B", true, true, "line1-4"), cert("C", true, false)});
    CHECK(s.certificates == 6);
    CHECK(s.units == 4);
    CHECK(s.retests == 2);
    // FPY: A and D of 4 = 50 %; final yield: A, B, D of 4 = 75 %.
    CHECK(s.total.first_pass == 2);
    CHECK(s.total.fpy() == doctest::Approx(0.5));
    CHECK(s.total.final_pass == 3);
    CHECK(s.total.yield() == doctest::Approx(0.75));
    // Per station, units by their first test: line1-3 has A, B, C (first pass A only; final pass
    // A and B, though B passed its retest on line1-4) and 4 tests; line1-4 has D and 2 tests.
    REQUIRE(s.by_station.size() == 2);
    CHECK(s.by_station[0].key == "line1-3");
    CHECK(s.by_station[0].units == 3);
    CHECK(s.by_station[0].tests == 4);
    CHECK(s.by_station[0].fpy() == doctest::Approx(1.0 / 3));
    CHECK(s.by_station[0].final_pass == 2);
    CHECK(s.by_station[1].key == "line1-4");
    CHECK(s.by_station[1].units == 1);
    CHECK(s.by_station[1].tests == 2);
    CHECK(s.by_station[1].fpy() == doctest::Approx(1.0));
    // Steps in plan order; motors passed in 2 of the 4 first tests, vtx in all 4.
    REQUIRE(s.by_step.size() == 2);
    CHECK(s.by_step[0].step == "motors");
    CHECK(s.by_step[0].tests == 6);
    CHECK(s.by_step[0].failures == 2);
    CHECK(s.by_step[0].first_tests == 4);
    CHECK(s.by_step[0].fpy() == doctest::Approx(0.5));
    CHECK(s.by_step[1].fpy() == doctest::Approx(1.0));
    // Pareto: motors 2 of 3 failures, then vtx; by measurement the same order.
    REQUIRE(s.pareto_steps.size() == 2);
    CHECK(s.pareto_steps[0].what == "motors");
    CHECK(s.pareto_steps[0].failures == 2);
    CHECK(s.pareto_steps[0].share == doctest::Approx(2.0 / 3));
    CHECK(s.pareto_steps[1].what == "vtx");
    CHECK(s.pareto_steps[1].cumulative == doctest::Approx(1.0));
    REQUIRE(s.pareto_measurements.size() == 2);
    CHECK(s.pareto_measurements[0].what == "motors / motor3_rpm");
    CHECK(s.pareto_measurements[1].what == "vtx / power");
}

TEST_CASE("capability: Cp, Cpk, Pp, Ppk as worked out by hand") {
    // x = 10 12 11 13 12 11 10 12 11 13, limits [5, 20].
    // mean = 115 / 10 = 11.5; squared deviations sum to 10.5, so sigma = sqrt(10.5 / 9) = 1.080123.
    // Moving ranges 2 1 2 1 1 1 2 1 2 = 13 over 9: MRbar = 1.444444, sigma within = 1.444444 / 1.128 = 1.280536.
    // Cp = 15 / (6 * 1.280536) = 1.952308; Cpk = min(8.5, 6.5) / (3 * 1.280536) = 1.692000.
    // Pp = 15 / (6 * 1.080123) = 2.314550; Ppk = 6.5 / (3 * 1.080123) = 2.005944.
    std::vector<Certificate> certs;
    int i = 0;
    for (double x : {10, 12, 11, 13, 12, 11, 10, 12, 11, 13}) {
        auto c = cert(fmt::format("U{}", ++i), true, true);
        c.steps[0].measurements = {rpm(x, Verdict::pass, 5, 20)};
        certs.push_back(c);
    }
    const auto s = build(certs);
    const auto& c = s.capability.at(0);
    CHECK(c.measurement == "motor3_rpm");
    CHECK(c.n == 10);
    CHECK(c.mean == doctest::Approx(11.5));
    CHECK(c.sigma == doctest::Approx(1.080123).epsilon(1e-6));
    CHECK(c.sigma_within == doctest::Approx(1.280536).epsilon(1e-6));
    CHECK(*c.cp == doctest::Approx(1.952308).epsilon(1e-6));
    CHECK(*c.cpk == doctest::Approx(1.692000).epsilon(1e-6));
    CHECK(*c.pp == doctest::Approx(2.314550).epsilon(1e-6));
    CHECK(*c.ppk == doctest::Approx(2.005944).epsilon(1e-6));
    CHECK(c.alarms.empty());
    CHECK(!c.limits_changed);
    // The vtx power series: constant 25 dBm, no spread, so no index at all (not infinity).
    const auto& power = s.capability.at(1);
    CHECK(power.sigma == 0);
    CHECK(!power.cp);
    CHECK(!power.cpk);
}

TEST_CASE("capability of a one-sided limit, and limits that changed") {
    // Only USL 20: Cpk = (20 - 11.5) / (3 * 1.280536) = 2.212615, and no Cp.
    std::vector<Certificate> certs;
    int i = 0;
    for (double x : {10, 12, 11, 13, 12, 11, 10, 12, 11, 13}) {
        auto c = cert(fmt::format("U{}", ++i), true, true);
        c.steps[0].measurements = {rpm(x)};
        c.steps[0].measurements[0].limit_spec->min.reset();
        c.steps[0].measurements[0].limit_spec->max = i == 1 ? 30 : 20;
        certs.push_back(c);
    }
    const auto c = build(certs).capability.at(0);
    CHECK(!c.cp);
    CHECK(*c.cpk == doctest::Approx(2.212615).epsilon(1e-6));
    CHECK(c.limits_changed);
    CHECK(*c.usl == 20);
}

TEST_CASE("Western Electric rules, each on its own") {
    using V = std::vector<RunAlarm>;
    CHECK(western_electric({0, 3.5, 0, -3.2}, 0, 1) == V{{1, 1, 1}, {1, 3, 3}});
    CHECK(western_electric({0, 2.5, 0.5, 2.2}, 0, 1) == V{{2, 3, 3}});
    CHECK(western_electric({0, 2.5, 0.5, -2.2}, 0, 1).empty());  // not on one side
    CHECK(western_electric({1.5, 1.2, 0.3, 1.1, 1.9}, 0, 1) == V{{3, 4, 4}});
    CHECK(western_electric({0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, 0, 1) == V{{4, 7, 8}});
    CHECK(western_electric({0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, -0.1, 0.1}, 0, 1).empty());
    CHECK(western_electric({5, 5, 5}, 0, 0).empty());  // no spread, no chart
}

TEST_CASE("a drifting motor raises a run-rule alarm in the statistics") {
    // 9990 and 10010 alternating for 10 units, then 8 units at 10004: mean = 10001.78; moving
    // ranges 9 x 20 + 6 = 186 over 17, sigma within = 9.70, so nothing passes 1 sigma four times in
    // five or 2 sigma twice in three; but units 10..18 sit above the mean: rule 4 at units 17 and 18.
    std::vector<double> x;
    for (int k = 0; k < 5; ++k) x.insert(x.end(), {9990, 10010});
    x.insert(x.end(), 8, 10004);
    std::vector<Certificate> certs;
    for (std::size_t k = 0; k < x.size(); ++k) certs.push_back(cert(fmt::format("U{:02}", k + 1), true, true, "line1-3", x[k]));
    const auto s = build(certs);
    const auto& c = s.capability.at(0);
    CHECK(c.mean == doctest::Approx(10001.777778));
    CHECK(c.sigma_within == doctest::Approx(9.699625).epsilon(1e-6));
    REQUIRE(c.alarms.size() == 1);
    CHECK(c.alarms[0] == RunAlarm{4, 16, 17});
    CHECK(c.serials[16] == "U17");
    const auto text = stats_text(s);
    CHECK(text.find("fpv5-bf motors/motor3_rpm: rule 4 (8 points in a row on one side of the centre) at points 17..18 (U17..U18)") != std::string::npos);
    const auto json = stats_json(s);
    CHECK(json.find(R"("alarms":[{"rule":4,"text":"8 points in a row on one side of the centre","first":16,"last":17,"first_serial":"U17","last_serial":"U18"}])") !=
          std::string::npos);
    const auto html = stats_html(s, "drift", "t");
    CHECK(html.find("data-measurement=\"fpv5-bf motors/motor3_rpm\" data-n=\"18\"") != std::string::npos);
    CHECK(html.find("data-alarms=\"1\"") != std::string::npos);
    CHECK(html.find("class=\"alarm\"") != std::string::npos);
    CHECK(html.find("http://") == std::string::npos);
    CHECK(html.find("https://") == std::string::npos);

    // A chart of the last 10 points: the same mean, sigma and alarm, numbered in the whole series.
    const auto w = build(certs, 10);
    const auto& cw = w.capability.at(0);
    CHECK(cw.n == 18);
    CHECK(cw.mean == doctest::Approx(10001.777778));
    CHECK(cw.sigma_within == doctest::Approx(9.699625).epsilon(1e-6));
    CHECK(cw.values.size() == 10);
    CHECK(cw.first_point == 8);
    CHECK(cw.serials.front() == "U09");
    REQUIRE(cw.alarms.size() == 1);
    CHECK(cw.alarms[0] == RunAlarm{4, 8, 9});
    CHECK(stats_text(w).find("at points 17..18 (U17..U18)") != std::string::npos);
    CHECK(stats_json(w).find(R"("chart_first_point":8,"chart_points":10,"alarms":[{"rule":4,"text":"8 points in a row on one side of the centre","first":16,"last":17,)") !=
          std::string::npos);
    const auto wh = stats_html(w, "drift", "t");
    CHECK(wh.find("data-n=\"18\" data-points=\"10\" data-first-point=\"9\"") != std::string::npos);
    CHECK(wh.find(" — points 9..18 of 18 (centre and limits from all)") != std::string::npos);
}

TEST_CASE("time bounds: whole-field prefixes of an ISO 8601 UTC time, nothing else") {
    for (const char* ok : {"2026", "2026-11", "2026-11-24", "2026-11-24T14", "2026-11-24T14:41", "2026-11-24T14:41:19", "2026-11-24T14:41:19.998",
                           "2026-11-24T14:41:19.998Z", "2026-12-31T23:59:59.999Z"})
        CHECK_MESSAGE(!rig::reports::time_prefix_problem(ok), ok);
    for (const char* bad : {"", "yesterday", "2026-1", "2026-13", "2026-00", "2026-11-32", "2026-11-00", "2026-11-24 14:41", "2026-11-24T24",
                            "2026-11-24T14:60", "2026-11-24T14:41:60", "2026/11/24", "2026-11-24T14:41:19.998+01", "20261124"})
        CHECK_MESSAGE(rig::reports::time_prefix_problem(bad), bad);
    CHECK(*rig::reports::time_prefix_problem("2026-13") ==
          "'2026-13' is not an ISO 8601 UTC time or a prefix of one (2026, 2026-11, 2026-11-24, 2026-11-24T14:30, ...)");
}
