#include <algorithm>
#include <fmt/format.h>
#include <regex>
#include <set>
#include <toml++/toml.h>

#include "reports/dsse.hpp"
#include "rig/plan/plan.hpp"

namespace rig::plan {
namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

constexpr std::int64_t kMaxTimeoutMs = 3'600'000;  // an hour: anything longer is a typo

Location where(const toml::source_region& r) {
    return Location{r.path ? *r.path : std::string{}, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

Error at(const toml::source_region& r, const std::string& message) {
    return make_error(Errc::invalid_argument, where(r).str() + ": " + message);
}

std::string hint(const std::string& word, const std::vector<std::string>& candidates) {
    auto c = closest(word, candidates);
    return c ? fmt::format(" (did you mean '{}'?)", *c) : std::string{};
}

// Nodes are moved, never copied: toml++ drops a node's source region on copy, and every error
// must name the file and line where its key was written, in the base file or in the variant.
void merge(toml::table& base, toml::table& child) {
    for (auto&& [k, v] : child) {
        auto* existing = base.get(k.str());
        if (existing && existing->is_table() && v.is_table()) merge(*existing->as_table(), *v.as_table());
        else base.insert_or_assign(k, std::move(v));
    }
}

constexpr std::size_t kMaxExtendsDepth = 16;
// Limits beyond this magnitude are typos (1e308), not physics.
constexpr double kMaxLimitMagnitude = 1e12;

Result<toml::table> read_with_extends(const fs::path& file, std::vector<std::string>& chain) {  // NOLINT(misc-no-recursion): depth bounded
    const std::string name = file.lexically_normal().string();
    for (const auto& seen : chain)
        if (seen == name) {
            std::string path;
            for (const auto& c : chain) path += c + " -> ";
            return make_error(Errc::invalid_argument, fmt::format("{}: extends cycle: {}{}", chain.back(), path, name));
        }
    if (chain.size() >= kMaxExtendsDepth)
        return make_error(Errc::invalid_argument, fmt::format("{}: 'extends' chain deeper than {} files (from {})", name, kMaxExtendsDepth, chain.front()));
    std::error_code ec;
    if (!fs::exists(file, ec)) return make_error(Errc::not_found, fmt::format("{}: no such variant file", name));
    if (!fs::is_regular_file(file, ec)) return make_error(Errc::invalid_argument, fmt::format("{}: not a regular file", name));
    toml::table tbl;
    try {
        tbl = toml::parse_file(name);
    } catch (const toml::parse_error& e) {
        return at(e.source(), std::string(e.description()));
    }
    chain.push_back(name);
    auto* ext = tbl.get("extends");
    if (!ext) return tbl;
    if (!ext->is_string()) return at(ext->source(), "key 'extends': expected a file name string");
    const fs::path parent = file.parent_path() / ext->value<std::string>().value();
    auto base = read_with_extends(parent, chain);
    if (!base) return base.error();
    tbl.erase("extends");
    merge(*base, tbl);
    return std::move(*base);
}

Result<Limit> parse_limit(const std::string& step_id, const std::string& key, const toml::node& node, const MeasurementSchema& schema) {
    const auto ctx = fmt::format("limit '{}' of step '{}'", key, step_id);
    if (!node.is_table()) return at(node.source(), ctx + ": expected a table like { min = 1, max = 2 }");
    const auto& t = *node.as_table();
    Limit lim;
    lim.where = where(node.source());
    lim.unit = schema.unit;
    bool has_range = false, has_equals = false, has_regex = false;
    for (auto&& [k, v] : t) {
        const std::string kk(k.str());
        if (kk == "min" || kk == "max") {
            auto d = v.value<double>();
            if (!d || (!v.is_integer() && !v.is_floating_point())) return at(v.source(), ctx + ": '" + kk + "' must be a number");
            if (!std::isfinite(*d) || std::abs(*d) > kMaxLimitMagnitude)
                return at(v.source(), fmt::format("{}: '{}' must be a finite number within +-{:g}", ctx, kk, kMaxLimitMagnitude));
            (kk == "min" ? lim.min : lim.max) = *d;
            has_range = true;
        } else if (kk == "equals") {
            has_equals = true;
            if (v.is_string()) {
                lim.kind = Limit::Kind::equals_text;
                lim.text = *v.value<std::string>();
            } else if (v.is_integer() || v.is_floating_point()) {
                lim.kind = Limit::Kind::equals_number;
                lim.number = *v.value<double>();
                if (!std::isfinite(lim.number) || std::abs(lim.number) > kMaxLimitMagnitude)
                    return at(v.source(), fmt::format("{}: 'equals' must be a finite number within +-{:g}", ctx, kMaxLimitMagnitude));
            } else {
                return at(v.source(), ctx + ": 'equals' must be a number or a string");
            }
        } else if (kk == "regex") {
            if (!v.is_string()) return at(v.source(), ctx + ": 'regex' must be a string");
            lim.kind = Limit::Kind::regex;
            lim.text = *v.value<std::string>();
            try {
                std::regex check(lim.text);
            } catch (const std::regex_error& e) {
                return at(v.source(), ctx + ": bad regex '" + lim.text + "': " + e.what());
            }
            has_regex = true;
        } else if (kk == "unit") {
            if (!v.is_string()) return at(v.source(), ctx + ": 'unit' must be a string");
            auto u = *v.value<std::string>();
            if (u != schema.unit)
                return at(v.source(), fmt::format("{}: unit '{}' does not match the measurement's unit '{}'", ctx, u, schema.unit));
        } else {
            return at(k.source(), fmt::format("{}: unknown key '{}'{}", ctx, kk, hint(kk, {"min", "max", "equals", "regex", "unit"})));
        }
    }
    if (int(has_range) + int(has_equals) + int(has_regex) != 1)
        return at(node.source(), ctx + ": give exactly one of min/max, equals or regex");
    if (has_range) {
        lim.kind = Limit::Kind::range;
        if (lim.min && lim.max && *lim.min > *lim.max)
            return at(node.source(), fmt::format("{}: min {} is above max {}", ctx, *lim.min, *lim.max));
    }
    if (schema.numeric != lim.numeric())
        return at(node.source(), fmt::format("{}: '{}' is a {} measurement", ctx, key, schema.numeric ? "numeric" : "text"));
    lim.shown = lim.describe();
    return lim;
}

Result<StepSpec> parse_step(const std::string& id, const toml::node& node, const Catalogue& kinds) {
    if (!node.is_table()) return at(node.source(), fmt::format("step '{}': expected a table", id));
    const auto& t = *node.as_table();
    StepSpec s;
    s.id = id;
    s.where = where(node.source());
    auto* kind = t.get("kind");
    if (!kind) return at(node.source(), fmt::format("step '{}': missing key 'kind'", id));
    if (!kind->is_string()) return at(kind->source(), fmt::format("step '{}': 'kind' must be a step kind string", id));
    s.kind = *kind->value<std::string>();
    const KindSchema* schema = find_kind(kinds, s.kind);
    if (!schema) {
        std::vector<std::string> names;
        for (const auto& k : kinds) names.push_back(k.kind);
        return at(kind->source(), fmt::format("step '{}': unknown step kind '{}'{}", id, s.kind, hint(s.kind, names)));
    }
    s.timeout = schema->default_timeout;
    for (const auto& p : schema->params) s.params[p.name] = p.default_value;

    for (auto&& [k, v] : t) {
        const std::string kk(k.str());
        if (kk == "kind") continue;
        if (kk == "timeout_ms") {
            if (!v.is_integer() || *v.value<std::int64_t>() < 1 || *v.value<std::int64_t>() > kMaxTimeoutMs)
                return at(v.source(), fmt::format("step '{}': 'timeout_ms' must be an integer from 1 to {}", id, kMaxTimeoutMs));
            s.timeout = milliseconds(*v.value<std::int64_t>());
        } else if (kk == "params") {
            if (!v.is_table()) return at(v.source(), fmt::format("step '{}': 'params' must be a table", id));
            for (auto&& [pk, pv] : *v.as_table()) {
                const std::string pname(pk.str());
                auto it = s.params.find(pname);
                if (it == s.params.end()) {
                    std::vector<std::string> names;
                    for (const auto& p : schema->params) names.push_back(p.name);
                    return at(pk.source(), fmt::format("step '{}': unknown param '{}' for kind {}{}", id, pname, s.kind, hint(pname, names)));
                }
                if (std::holds_alternative<double>(it->second)) {
                    if (!pv.is_integer() && !pv.is_floating_point())
                        return at(pv.source(), fmt::format("step '{}': param '{}' must be a number", id, pname));
                    const double v = *pv.value<double>();
                    const auto& ps = *std::find_if(schema->params.begin(), schema->params.end(), [&](const ParamSchema& p) { return p.name == pname; });
                    if (!(v >= ps.min && v <= ps.max))
                        return at(pv.source(), fmt::format("step '{}': param '{}' = {} outside {}..{}", id, pname, v, ps.min, ps.max));
                    if (ps.integer && v != std::floor(v))
                        return at(pv.source(), fmt::format("step '{}': param '{}' = {} must be a whole number", id, pname, v));
                    it->second = v;
                } else {
                    if (!pv.is_string()) return at(pv.source(), fmt::format("step '{}': param '{}' must be a string", id, pname));
                    it->second = *pv.value<std::string>();
                }
            }
        } else if (kk == "limits") {
            if (!v.is_table()) return at(v.source(), fmt::format("step '{}': 'limits' must be a table", id));
            for (auto&& [lk, lv] : *v.as_table()) {
                const std::string lname(lk.str());
                const MeasurementSchema* ls = schema->measurement(lname);
                if (ls && !ls->judged)
                    return at(lk.source(), fmt::format("step '{}': '{}' is recorded, never judged: it takes no limit", id, lname));
                if (!ls) {
                    std::vector<std::string> names;
                    for (const auto& m : schema->measurements)
                        if (m.judged) names.push_back(m.key);
                    return at(lk.source(), fmt::format("unknown limit key '{}' in step '{}'{}", lname, id, hint(lname, names)));
                }
                auto lim = parse_limit(id, lname, lv, *ls);
                if (!lim) return lim.error();
                s.limits[lname] = std::move(*lim);
            }
        } else {
            return at(k.source(), fmt::format("step '{}': unknown key '{}'{}", id, kk, hint(kk, {"kind", "timeout_ms", "params", "limits"})));
        }
    }
    return s;
}

std::string number_text(double d) { return fmt::format("{}", d); }

std::string canonical(const Plan& p) {
    // Hand-rolled so the bytes are stable across library versions: keys sorted, numbers shortest.
    auto q = [](const std::string& s) {
        std::string out = "\"";
        for (char c : s) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        return out + "\"";
    };
    std::string j = fmt::format("{{\"id\":{},\"serial_regex\":{},\"steps\":[", q(p.id), q(p.serial_regex.value_or("")));
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        const auto& s = p.steps[i];
        if (i) j += ",";
        j += fmt::format("{{\"id\":{},\"kind\":{},\"limits\":{{", q(s.id), q(s.kind));
        bool first = true;
        for (const auto& [k, l] : s.limits) {
            if (!first) j += ",";
            first = false;
            j += q(k) + ":{";
            j += fmt::format("\"kind\":{}", static_cast<int>(l.kind));
            if (l.min) j += ",\"min\":" + number_text(*l.min);
            if (l.max) j += ",\"max\":" + number_text(*l.max);
            if (l.kind == Limit::Kind::equals_number) j += ",\"number\":" + number_text(l.number);
            if (!l.text.empty()) j += ",\"text\":" + q(l.text);
            j += ",\"unit\":" + q(l.unit) + "}";
        }
        j += "},\"params\":{";
        first = true;
        for (const auto& [k, v] : s.params) {
            if (!first) j += ",";
            first = false;
            j += q(k) + ":" + (std::holds_alternative<double>(v) ? number_text(std::get<double>(v)) : q(std::get<std::string>(v)));
        }
        j += fmt::format("}},\"timeout_ms\":{}}}", s.timeout.count());
    }
    return j + "]}";
}

}  // namespace

const MeasurementSchema* KindSchema::measurement(const std::string& key) const {
    for (const auto& m : measurements)
        if (m.key == key) return &m;
    return nullptr;
}

const KindSchema* find_kind(const Catalogue& kinds, const std::string& kind) {
    for (const auto& k : kinds)
        if (k.kind == kind) return &k;
    return nullptr;
}

Result<Plan> load(const fs::path& file, const Catalogue& kinds) {
    std::vector<std::string> chain;
    auto tbl = read_with_extends(file, chain);
    if (!tbl) return tbl.error();
    Plan plan;
    plan.files = chain;
    const std::string top = chain.front();
    const toml::source_region file_start{{1, 1}, {1, 1}, std::make_shared<const std::string>(top)};

    const toml::array* sequence = nullptr;
    const toml::table* steps = nullptr;
    for (auto&& [k, v] : *tbl) {
        const std::string kk(k.str());
        if (kk == "id" || kk == "description" || kk == "serial_regex") {
            if (!v.is_string()) return at(v.source(), fmt::format("key '{}': expected a string", kk));
            auto s = *v.value<std::string>();
            if (kk == "id") plan.id = s;
            else if (kk == "description") plan.description = s;
            else {
                try {
                    std::regex check(s);
                } catch (const std::regex_error& e) {
                    return at(v.source(), fmt::format("key 'serial_regex': bad regex '{}': {}", s, e.what()));
                }
                plan.serial_regex = s;
            }
        } else if (kk == "sequence") {
            if (!v.is_array()) return at(v.source(), "key 'sequence': expected an array of step ids");
            sequence = v.as_array();
        } else if (kk == "steps") {
            if (!v.is_table()) return at(v.source(), "key 'steps': expected a table of steps");
            steps = v.as_table();
        } else {
            return at(k.source(), fmt::format("unknown key '{}'{}", kk,
                                              hint(kk, {"id", "description", "serial_regex", "sequence", "steps", "extends"})));
        }
    }
    if (plan.id.empty()) return at(file_start, "missing key 'id'");
    if (!sequence) return at(file_start, "missing key 'sequence'");
    if (!steps) return at(file_start, "missing table 'steps'");

    std::set<std::string> used;
    for (const auto& item : *sequence) {
        if (!item.is_string()) return at(item.source(), "key 'sequence': every entry must be a step id string");
        const std::string id = *item.value<std::string>();
        if (!used.insert(id).second) return at(item.source(), fmt::format("key 'sequence': step '{}' is listed twice", id));
        auto* node = steps->get(id);
        if (!node) {
            std::vector<std::string> names;
            for (auto&& [k, v] : *steps) names.emplace_back(k.str());
            return at(item.source(), fmt::format("key 'sequence': no step '{}' in [steps]{}", id, hint(id, names)));
        }
        auto spec = parse_step(id, *node, kinds);
        if (!spec) return spec.error();
        plan.steps.push_back(std::move(*spec));
    }
    for (auto&& [k, v] : *steps)
        if (!used.count(std::string(k.str())))
            return at(k.source(), fmt::format("step '{}' is defined but not in 'sequence' (a step is never skipped silently)", k.str()));
    if (plan.steps.empty()) return at(file_start, "key 'sequence': a plan needs at least one step");

    plan.canonical = canonical(plan);
    plan.sha256 = reports::sha256_hex(plan.canonical);
    return plan;
}

Result<Plan> load_variant(const fs::path& dir, const std::string& variant, const Catalogue& kinds) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return make_error(Errc::not_found, fmt::format("{}: no such variants directory", dir.string()));
    auto file = dir / (variant + ".toml");
    if (!fs::exists(file, ec)) {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (e.path().extension() == ".toml") names.push_back(e.path().stem().string());
        return make_error(Errc::not_found, fmt::format("{}: no variant '{}'{}", dir.string(), variant, hint(variant, names)));
    }
    auto plan = load(file, kinds);
    if (plan && plan->id != variant)
        return make_error(Errc::invalid_argument, fmt::format("{}: id '{}' does not match the file name '{}'", file.string(), plan->id, variant));
    return plan;
}

}  // namespace rig::plan
