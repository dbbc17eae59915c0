#include "rig/api/views.hpp"

#include <boost/json/serialize.hpp>
#include <cmath>

namespace rig::api {

namespace json = boost::json;

namespace {

json::value number_or_null(double v) { return std::isfinite(v) ? json::value(v) : json::value(nullptr); }

json::value limit_json(const std::optional<reports::LimitSpec>& l) {
    if (!l) return nullptr;
    json::object o;
    switch (l->kind) {
    case reports::LimitSpec::Kind::range:
        o["kind"] = "range";
        if (l->min) o["min"] = *l->min;
        if (l->max) o["max"] = *l->max;
        break;
    case reports::LimitSpec::Kind::equals:
        o["kind"] = "equals";
        if (l->equals_number) o["equals"] = *l->equals_number;
        else if (l->equals_text) o["equals"] = *l->equals_text;
        break;
    case reports::LimitSpec::Kind::regex:
        o["kind"] = "regex";
        o["regex"] = l->regex;
        break;
    }
    o["unit"] = l->unit;
    return o;
}

json::object step_json(const reports::StepRecord& r) {
    json::array ms;
    for (const auto& m : r.measurements) ms.emplace_back(measurement_json(m));
    return {{"id", r.id},         {"kind", r.kind}, {"verdict", reports::to_string(r.verdict)}, {"message", r.message},
            {"duration_s", r.duration_s}, {"measurements", std::move(ms)}};
}

}  // namespace

json::object measurement_json(const reports::Measurement& m) {
    json::object o{{"name", m.name}, {"value", number_or_null(m.value)}, {"unit", m.unit}, {"limit", m.limit},
                   {"verdict", reports::to_string(m.verdict)}, {"limit_spec", limit_json(m.limit_spec)}};
    if (!m.text.empty()) o["text"] = m.text;
    return o;
}

json::object nest_json(const station::NestView& v) {
    json::object o{{"id", v.station},        {"variant", v.variant},   {"lot", v.lot},         {"plan_sha256", v.plan_sha256},
                   {"scanner", v.scanner},   {"start", v.start},       {"serial_pattern", v.serial_pattern}, {"state", to_string(v.state)}, {"detail", v.detail},
                   {"serial", v.serial},     {"scanned", v.scanned},   {"scan_notice", v.scan_notice}, {"scanner_problem", v.scanner_problem},
                   {"lid_closed", v.lid_closed}, {"dut_present", v.dut_present}};
    if (v.step)
        o["step"] = json::object{{"id", v.step->id},           {"kind", v.step->kind},           {"index", v.step->index},
                                 {"count", v.step->count},     {"elapsed_s", v.step->elapsed_s}, {"timeout_s", v.step->timeout_s}};
    else
        o["step"] = nullptr;
    if (v.last) {
        json::array failing;
        for (const auto& f : v.last->failing) failing.emplace_back(json::object{{"step", f.step}, {"measurement", measurement_json(f.measurement)}});
        o["last"] = json::object{{"serial", v.last->serial},   {"verdict", reports::to_string(v.last->verdict)},
                                 {"sequence", v.last->sequence}, {"sha256", v.last->sha256},
                                 {"finished_at", v.last->finished_at}, {"summary", v.last->summary},
                                 {"failing", std::move(failing)}};
    } else {
        o["last"] = nullptr;
    }
    const auto& t = v.totals;
    o["totals"] = json::object{{"tested", t.tested},   {"passed", t.passed},   {"failed", t.failed}, {"errored", t.errored},
                               {"aborted", t.aborted}, {"rejected", t.rejected}};
    return o;
}

std::string event_json(const station::NestEvent& e) {
    json::object o{{"type", e.type}, {"nest", nest_json(e.view)}};
    if (e.step) o["step"] = step_json(*e.step);
    return json::serialize(o);
}

}  // namespace rig::api
