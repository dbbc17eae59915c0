#include "reports/certificate.hpp"

#include <boost/json.hpp>
#include <cmath>

namespace rig::reports {
namespace json = boost::json;

const char* to_string(Verdict v) {
    switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::error: return "error";
    }
    return "error";
}

std::optional<Verdict> verdict_from_string(std::string_view s) {
    if (s == "pass") return Verdict::pass;
    if (s == "fail") return Verdict::fail;
    if (s == "error") return Verdict::error;
    return std::nullopt;
}

std::string to_json(const Certificate& c) {
    json::object o;
    o["schema"] = c.schema;
    o["unit"] = {{"serial", c.unit.serial}, {"variant", c.unit.variant}, {"lot", c.unit.lot}};
    o["verdict"] = to_string(c.verdict);
    o["station"] = {{"id", c.station.id},
                    {"fixture_id", c.station.fixture_id},
                    {"calibration_due", c.station.calibration_due},
                    {"software_version", c.station.software_version},
                    {"sequence", c.station.sequence}};
    o["operator"] = c.operator_id;
    o["plan"] = {{"id", c.plan.id}, {"sha256", c.plan.sha256}};
    o["dut"] = {{"firmware", c.dut.firmware}, {"board", c.dut.board}, {"uid", c.dut.uid}};
    o["started_at"] = c.started_at;
    o["finished_at"] = c.finished_at;
    json::array steps;
    for (const auto& s : c.steps) {
        json::array ms;
        for (const auto& m : s.measurements) {
            json::object mo;
            mo["name"] = m.name;
            if (std::isfinite(m.value)) mo["value"] = m.value;
            else mo["value"] = nullptr;
            mo["unit"] = m.unit;
            if (!m.text.empty()) mo["text"] = m.text;
            mo["limit"] = m.limit;
            mo["verdict"] = to_string(m.verdict);
            ms.push_back(std::move(mo));
        }
        json::object so;
        so["id"] = s.id;
        so["kind"] = s.kind;
        so["verdict"] = to_string(s.verdict);
        so["message"] = s.message;
        so["started_at"] = s.started_at;
        so["duration_s"] = s.duration_s;
        so["measurements"] = std::move(ms);
        steps.push_back(std::move(so));
    }
    o["steps"] = std::move(steps);
    o["previous_sha256"] = c.previous_sha256;
    return json::serialize(o);
}

namespace {

struct Reader {
    std::string error;
    std::string str(const json::object& o, const char* key, const char* where) {
        auto* v = o.if_contains(key);
        if (!v || !v->is_string()) {
            if (error.empty()) error = fmt_missing(where, key, "string");
            return {};
        }
        return std::string(v->get_string());
    }
    double num(const json::object& o, const char* key, const char* where) {
        auto* v = o.if_contains(key);
        if (v && v->is_null()) return std::nan("");
        if (!v || !v->is_number()) {
            if (error.empty()) error = fmt_missing(where, key, "number");
            return 0;
        }
        return v->to_number<double>();
    }
    const json::object& obj(const json::object& o, const char* key, const char* where) {
        static const json::object empty;
        auto* v = o.if_contains(key);
        if (!v || !v->is_object()) {
            if (error.empty()) error = fmt_missing(where, key, "object");
            return empty;
        }
        return v->get_object();
    }
    Verdict verdict(const json::object& o, const char* where) {
        auto s = str(o, "verdict", where);
        auto v = verdict_from_string(s);
        if (!v) {
            if (error.empty()) error = std::string("certificate: ") + where + ".verdict: unknown verdict '" + s + "'";
            return Verdict::error;
        }
        return *v;
    }
    static std::string fmt_missing(const char* where, const char* key, const char* type) {
        return std::string("certificate: ") + where + "." + key + ": missing or not a " + type;
    }
};

}  // namespace

Result<Certificate> from_json(std::string_view text) {
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    if (ec) return make_error(Errc::parse_error, "certificate: not JSON: " + ec.message());
    if (!value.is_object()) return make_error(Errc::parse_error, "certificate: top level is not an object");
    const auto& o = value.get_object();
    Reader r;
    Certificate c;
    c.schema = r.str(o, "schema", "$");
    if (r.error.empty() && c.schema != kSchema)
        return make_error(Errc::parse_error, "certificate: unknown schema '" + c.schema + "'");
    const auto& unit = r.obj(o, "unit", "$");
    c.unit.serial = r.str(unit, "serial", "unit");
    c.unit.variant = r.str(unit, "variant", "unit");
    c.unit.lot = r.str(unit, "lot", "unit");
    c.verdict = r.verdict(o, "$");
    const auto& st = r.obj(o, "station", "$");
    c.station.id = r.str(st, "id", "station");
    c.station.fixture_id = r.str(st, "fixture_id", "station");
    c.station.calibration_due = r.str(st, "calibration_due", "station");
    c.station.software_version = r.str(st, "software_version", "station");
    c.station.sequence = static_cast<std::uint64_t>(r.num(st, "sequence", "station"));
    c.operator_id = r.str(o, "operator", "$");
    const auto& plan = r.obj(o, "plan", "$");
    c.plan.id = r.str(plan, "id", "plan");
    c.plan.sha256 = r.str(plan, "sha256", "plan");
    const auto& dut = r.obj(o, "dut", "$");
    c.dut.firmware = r.str(dut, "firmware", "dut");
    c.dut.board = r.str(dut, "board", "dut");
    c.dut.uid = r.str(dut, "uid", "dut");
    c.started_at = r.str(o, "started_at", "$");
    c.finished_at = r.str(o, "finished_at", "$");
    c.previous_sha256 = r.str(o, "previous_sha256", "$");
    if (!r.error.empty()) return make_error(Errc::parse_error, r.error);
    auto* steps = o.if_contains("steps");
    if (!steps || !steps->is_array()) return make_error(Errc::parse_error, "certificate: $.steps: missing or not an array");
    for (const auto& sv : steps->get_array()) {
        if (!sv.is_object()) return make_error(Errc::parse_error, "certificate: steps[]: not an object");
        const auto& so = sv.get_object();
        StepRecord s;
        s.id = r.str(so, "id", "step");
        s.kind = r.str(so, "kind", "step");
        s.verdict = r.verdict(so, "step");
        s.message = r.str(so, "message", "step");
        s.started_at = r.str(so, "started_at", "step");
        s.duration_s = r.num(so, "duration_s", "step");
        auto* ms = so.if_contains("measurements");
        if (!ms || !ms->is_array()) return make_error(Errc::parse_error, "certificate: step.measurements: missing or not an array");
        for (const auto& mv : ms->get_array()) {
            if (!mv.is_object()) return make_error(Errc::parse_error, "certificate: measurements[]: not an object");
            const auto& mo = mv.get_object();
            Measurement m;
            m.name = r.str(mo, "name", "measurement");
            m.value = r.num(mo, "value", "measurement");
            m.unit = r.str(mo, "unit", "measurement");
            if (mo.contains("text")) m.text = r.str(mo, "text", "measurement");
            m.limit = r.str(mo, "limit", "measurement");
            m.verdict = r.verdict(mo, "measurement");
            s.measurements.push_back(std::move(m));
        }
        c.steps.push_back(std::move(s));
    }
    if (!r.error.empty()) return make_error(Errc::parse_error, r.error);
    return c;
}

}  // namespace rig::reports
