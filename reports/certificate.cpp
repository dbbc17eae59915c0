#include "reports/certificate.hpp"

#include "reports/json_fields.hpp"

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

namespace {
json::object limit_json(const LimitSpec& l);
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
    if (!c.station.instruments.empty()) {
        json::array instruments;
        for (const auto& i : c.station.instruments)
            instruments.push_back({{"name", i.name}, {"type", i.type}, {"vendor", i.vendor}, {"model", i.model}, {"serial", i.serial},
                                   {"firmware", i.firmware}, {"calibration_due", i.calibration_due}});
        o["station"].as_object()["instruments"] = std::move(instruments);
    }
    o["operator"] = c.operator_id;
    o["plan"] = {{"id", c.plan.id}, {"sha256", c.plan.sha256}};
    o["dut"] = {{"firmware", c.dut.firmware}, {"board", c.dut.board}, {"uid", c.dut.uid}};
    if (!c.dut.parts.empty()) {
        json::array parts;
        for (const auto& p : c.dut.parts)
            parts.push_back({{"position", p.position}, {"serial", p.serial}, {"name", p.name}, {"firmware", p.firmware}, {"hardware", p.hardware}});
        o["dut"].as_object()["parts"] = std::move(parts);
    }
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
            if (m.limit_spec) mo["limit_spec"] = limit_json(*m.limit_spec);
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
        if (s.instrument_wait_s > 0) so["instrument_wait_s"] = s.instrument_wait_s;
        so["measurements"] = std::move(ms);
        steps.push_back(std::move(so));
    }
    o["steps"] = std::move(steps);
    o["previous_sha256"] = c.previous_sha256;
    return json::serialize(o);
}

namespace {

const char* to_string(LimitSpec::Kind k) {
    switch (k) {
    case LimitSpec::Kind::range: return "range";
    case LimitSpec::Kind::equals: return "equals";
    case LimitSpec::Kind::regex: return "regex";
    }
    return "range";
}

json::object limit_json(const LimitSpec& l) {
    json::object o;
    o["kind"] = to_string(l.kind);
    if (l.min) o["min"] = *l.min;
    if (l.max) o["max"] = *l.max;
    if (l.equals_number) o["equals"] = *l.equals_number;
    if (l.equals_text) o["equals"] = *l.equals_text;
    if (l.kind == LimitSpec::Kind::regex) o["regex"] = l.regex;
    o["unit"] = l.unit;
    return o;
}

std::optional<LimitSpec> limit_from(FieldReader& r, const json::object& o) {
    LimitSpec l;
    const auto kind = r.str(o, "kind", "limit_spec");
    if (kind == "range") {
        l.kind = LimitSpec::Kind::range;
        if (o.contains("min")) l.min = r.number(o, "min", "limit_spec", false);
        if (o.contains("max")) l.max = r.number(o, "max", "limit_spec", false);
        if (!l.min && !l.max) r.fail("limit_spec", "min", "a range needs min, max or both");
    } else if (kind == "equals") {
        l.kind = LimitSpec::Kind::equals;
        auto* e = r.get(o, "equals", "limit_spec");
        if (e && e->is_string()) l.equals_text = std::string(e->get_string());
        else if (e) l.equals_number = r.number(o, "equals", "limit_spec", false);
    } else if (kind == "regex") {
        l.kind = LimitSpec::Kind::regex;
        l.regex = r.str(o, "regex", "limit_spec");
    } else if (r.error.empty()) {
        r.fail("limit_spec", "kind", fmt::format("unknown limit kind '{}'", printable(kind)));
    }
    l.unit = r.str(o, "unit", "limit_spec");
    if (!r.error.empty()) return std::nullopt;
    return l;
}

Verdict verdict_of(FieldReader& r, const json::object& o, const char* where) {
    auto s = r.str(o, "verdict", where);
    auto v = verdict_from_string(s);
    if (!v && r.error.empty()) r.fail(where, "verdict", fmt::format("unknown verdict '{}'", printable(s)));
    return v.value_or(Verdict::error);
}

const json::object& object_of(FieldReader& r, const json::object& o, const char* key, const char* where) {
    static const json::object empty;
    auto* v = r.get(o, key, where);
    if (v && !v->is_object()) r.fail(where, key, "not an object");
    return v && v->is_object() ? v->get_object() : empty;
}

const json::array& array_of(FieldReader& r, const json::object& o, const char* key, const char* where) {
    static const json::array empty;
    auto* v = r.get(o, key, where);
    if (v && !v->is_array()) r.fail(where, key, "not an array");
    return v && v->is_array() ? v->get_array() : empty;
}

bool is_date(std::string_view d) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
        if (d[i] < '0' || d[i] > '9') return false;
    const int month = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

void read_steps(FieldReader& r, const json::object& o, Certificate& c) {
    for (const auto& sv : array_of(r, o, "steps", "$")) {
        if (!sv.is_object()) {
            r.fail("$", "steps", "an entry is not an object");
            return;
        }
        const auto& so = sv.get_object();
        StepRecord s;
        s.id = r.str(so, "id", "step");
        s.kind = r.str(so, "kind", "step");
        s.verdict = verdict_of(r, so, "step");
        s.message = r.str(so, "message", "step");
        s.started_at = r.time(so, "started_at", "step");
        s.duration_s = r.number(so, "duration_s", "step", false);
        if (r.error.empty() && s.duration_s < 0) r.fail("step", "duration_s", "negative");
        if (so.contains("instrument_wait_s")) {
            s.instrument_wait_s = r.number(so, "instrument_wait_s", "step", false);
            if (r.error.empty() && !(s.instrument_wait_s > 0 && s.instrument_wait_s <= s.duration_s))
                r.fail("step", "instrument_wait_s", "not within the step's duration");
        }
        for (const auto& mv : array_of(r, so, "measurements", "step")) {
            if (!mv.is_object()) {
                r.fail("step", "measurements", "an entry is not an object");
                return;
            }
            const auto& mo = mv.get_object();
            Measurement m;
            m.name = r.str(mo, "name", "measurement");
            m.value = r.number(mo, "value", "measurement", true);
            m.unit = r.str(mo, "unit", "measurement");
            if (mo.contains("text")) m.text = r.str(mo, "text", "measurement");
            m.limit = r.str(mo, "limit", "measurement");
            m.verdict = verdict_of(r, mo, "measurement");
            if (mo.contains("limit_spec")) m.limit_spec = limit_from(r, object_of(r, mo, "limit_spec", "measurement"));
            s.measurements.push_back(std::move(m));
        }
        c.steps.push_back(std::move(s));
    }
}

}  // namespace

Result<Certificate> from_json(std::string_view text) {
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    if (ec) return make_error(Errc::parse_error, "certificate: not JSON: " + ec.message());
    if (!value.is_object()) return make_error(Errc::parse_error, "certificate: top level is not an object");
    const auto& o = value.get_object();
    FieldReader r("certificate");
    Certificate c;
    c.schema = r.str(o, "schema", "$");
    if (r.error.empty() && c.schema != kSchema)
        return make_error(Errc::parse_error, "certificate: unknown schema '" + printable(c.schema) + "'");
    const auto& unit = object_of(r, o, "unit", "$");
    c.unit.serial = r.id(unit, "serial", "unit");
    c.unit.variant = r.id(unit, "variant", "unit");
    c.unit.lot = r.str(unit, "lot", "unit");
    if (r.error.empty() && !c.unit.lot.empty())
        if (auto why = id_problem(c.unit.lot)) r.fail("unit", "lot", *why);
    c.verdict = verdict_of(r, o, "$");
    const auto& st = object_of(r, o, "station", "$");
    c.station.id = r.id(st, "id", "station");
    c.station.fixture_id = r.str(st, "fixture_id", "station");
    c.station.calibration_due = r.str(st, "calibration_due", "station");
    if (r.error.empty() && !is_date(c.station.calibration_due))
        r.fail("station", "calibration_due", fmt::format("'{}' is not a date (YYYY-MM-DD)", printable(c.station.calibration_due)));
    c.station.software_version = r.str(st, "software_version", "station");
    c.station.sequence = r.count(st, "sequence", "station");
    if (st.contains("instruments")) {
        for (const auto& iv : array_of(r, st, "instruments", "station")) {
            if (!iv.is_object()) {
                r.fail("station", "instruments", "an entry is not an object");
                break;
            }
            const auto& io = iv.get_object();
            Instrument i{r.str(io, "name", "instrument"), r.str(io, "type", "instrument"), r.str(io, "vendor", "instrument"),
                         r.str(io, "model", "instrument"), r.str(io, "serial", "instrument"), r.str(io, "firmware", "instrument"),
                         r.str(io, "calibration_due", "instrument")};
            if (r.error.empty() && !is_date(i.calibration_due))
                r.fail("instrument", "calibration_due", fmt::format("'{}' is not a date (YYYY-MM-DD)", printable(i.calibration_due)));
            c.station.instruments.push_back(std::move(i));
        }
    }
    c.operator_id = r.str(o, "operator", "$");
    const auto& plan = object_of(r, o, "plan", "$");
    c.plan.id = r.str(plan, "id", "plan");
    c.plan.sha256 = r.sha256(plan, "sha256", "plan", false);
    const auto& dut = object_of(r, o, "dut", "$");
    c.dut.firmware = r.str(dut, "firmware", "dut");
    c.dut.board = r.str(dut, "board", "dut");
    c.dut.uid = r.str(dut, "uid", "dut");
    if (dut.contains("parts")) {
        for (const auto& pv : array_of(r, dut, "parts", "dut")) {
            if (!pv.is_object()) {
                r.fail("dut", "parts", "an entry is not an object");
                break;
            }
            const auto& po = pv.get_object();
            c.dut.parts.push_back({r.str(po, "position", "part"), r.str(po, "serial", "part"), r.str(po, "name", "part"),
                                   r.str(po, "firmware", "part"), r.str(po, "hardware", "part")});
        }
    }
    c.started_at = r.time(o, "started_at", "$");
    c.finished_at = r.time(o, "finished_at", "$");
    c.previous_sha256 = r.sha256(o, "previous_sha256", "$", c.station.sequence == 1);
    if (r.error.empty() && c.station.sequence == 1 && !c.previous_sha256.empty())
        r.fail("$", "previous_sha256", "the station's first certificate (sequence 1) names a previous one");
    if (r.error.empty()) read_steps(r, o, c);
    if (!r.error.empty()) return make_error(Errc::parse_error, r.error);
    return c;
}

}  // namespace rig::reports
