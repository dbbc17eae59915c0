#include <cmath>
#include <fmt/format.h>
#include <regex>

#include "rig/plan/plan.hpp"

namespace rig::plan {

std::string Location::str() const { return fmt::format("{}:{}:{}", file, line, column); }

Verdict Limit::check(double value) const {
    if (std::isnan(value)) return Verdict::fail;
    switch (kind) {
    case Kind::range:
        if (min && value < *min) return Verdict::fail;
        if (max && value > *max) return Verdict::fail;
        return Verdict::pass;
    case Kind::equals_number: return value == number ? Verdict::pass : Verdict::fail;
    case Kind::equals_text:
    case Kind::regex: return Verdict::fail;  // a number cannot meet a text limit
    }
    return Verdict::fail;
}

Verdict Limit::check(const std::string& value) const {
    switch (kind) {
    case Kind::equals_text: return value == text ? Verdict::pass : Verdict::fail;
    case Kind::regex: return std::regex_search(value, std::regex(text)) ? Verdict::pass : Verdict::fail;
    case Kind::range:
    case Kind::equals_number: return Verdict::fail;
    }
    return Verdict::fail;
}

std::string Limit::describe() const {
    std::string s;
    switch (kind) {
    case Kind::range:
        if (min && max) s = fmt::format("[{}, {}]", *min, *max);
        else if (min) s = fmt::format(">= {}", *min);
        else if (max) s = fmt::format("<= {}", *max);
        break;
    case Kind::equals_number: s = fmt::format("== {}", number); break;
    case Kind::equals_text: s = fmt::format("== {}", text); break;
    case Kind::regex: s = fmt::format("~ /{}/", text); break;
    }
    if (!unit.empty()) s += " " + unit;
    return s;
}

reports::LimitSpec Limit::spec() const {
    reports::LimitSpec l;
    l.unit = unit;
    switch (kind) {
    case Kind::range:
        l.kind = reports::LimitSpec::Kind::range;
        l.min = min;
        l.max = max;
        break;
    case Kind::equals_number:
        l.kind = reports::LimitSpec::Kind::equals;
        l.equals_number = number;
        break;
    case Kind::equals_text:
        l.kind = reports::LimitSpec::Kind::equals;
        l.equals_text = text;
        break;
    case Kind::regex:
        l.kind = reports::LimitSpec::Kind::regex;
        l.regex = text;
        break;
    }
    return l;
}

double StepSpec::number(const std::string& name) const {
    auto it = params.find(name);
    if (it == params.end() || !std::holds_alternative<double>(it->second))
        throw std::logic_error(fmt::format("step '{}' has no numeric param '{}'", id, name));
    return std::get<double>(it->second);
}

std::string StepSpec::text(const std::string& name) const {
    auto it = params.find(name);
    if (it == params.end() || !std::holds_alternative<std::string>(it->second))
        throw std::logic_error(fmt::format("step '{}' has no text param '{}'", id, name));
    return std::get<std::string>(it->second);
}

const Limit* StepSpec::limit(const std::string& key) const {
    auto it = limits.find(key);
    return it == limits.end() ? nullptr : &it->second;
}

std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates) {
    auto distance = [](const std::string& a, const std::string& b) {
        std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
        for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
        for (std::size_t i = 1; i <= a.size(); ++i) {
            cur[0] = i;
            for (std::size_t j = 1; j <= b.size(); ++j)
                cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            std::swap(prev, cur);
        }
        return prev[b.size()];
    };
    std::optional<std::string> best;
    std::size_t best_d = 3;
    for (const auto& c : candidates) {
        auto d = distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

}  // namespace rig::plan
