// The test plan of one variant: ordered steps, typed parameters and limits, and its sha256.
#pragma once
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocols/common/result.hpp"
#include "reports/certificate.hpp"

namespace rig::plan {

using reports::Verdict;

struct Location {
    std::string file;
    int line = 0, column = 0;
    std::string str() const;  // "file:line:column"
};

// Numeric range (inclusive, either side may be open), equality (number or text) or regex.
struct Limit {
    enum class Kind { range, equals_number, equals_text, regex };
    Kind kind = Kind::range;
    std::optional<double> min, max;
    double number = 0;
    std::string text;  // equals_text value or the regex pattern
    std::string unit;
    Location where;

    // NaN never passes a numeric limit.
    Verdict check(double value) const;
    Verdict check(const std::string& value) const;
    bool numeric() const { return kind == Kind::range || kind == Kind::equals_number; }
    std::string describe() const;  // "[5500, 7500] rpm", ">= 1.42", "== BTFL", "~ /^4\.5/"
    // describe(), formatted once when the plan is loaded: judging a measurement formats nothing.
    std::string shown;
    reports::LimitSpec spec() const;  // the same limit as data, for the certificate
};

using ParamValue = std::variant<double, std::string>;

struct StepSpec {
    std::string id;
    std::string kind;
    std::chrono::milliseconds timeout{0};
    std::map<std::string, ParamValue> params;  // every param of the kind, defaults filled in
    std::map<std::string, Limit> limits;
    Location where;

    double number(const std::string& name) const;           // throws std::logic_error if absent
    std::string text(const std::string& name) const;
    const Limit* limit(const std::string& key) const;
};

struct Plan {
    std::string id;           // the variant id
    std::string description;
    std::optional<std::string> serial_regex;
    std::vector<StepSpec> steps;
    std::vector<std::string> files;  // the variant file and every file it extends
    std::string sha256;              // over the resolved plan (canonical JSON)
    std::string canonical;           // that JSON
};

// What a step kind accepts and measures, declared beside the step's code (rig/steps) the way
// OpenHTF declares measurements on a phase: params with defaults and ranges, and every
// measurement with its unit; only a judged measurement may carry a limit in a plan.
struct ParamSchema {
    std::string name;
    ParamValue default_value;
    double min = 0, max = 0;  // numeric params: the accepted range, inclusive
    bool integer = false;     // counts and milliseconds: whole numbers only
};
struct MeasurementSchema {
    std::string key;
    bool numeric = true;
    std::string unit;
    bool judged = true;  // false: recorded in the certificate only, never against a limit
};
struct KindSchema {
    std::string kind;
    std::chrono::milliseconds default_timeout;
    std::vector<ParamSchema> params;
    std::vector<MeasurementSchema> measurements;
    const MeasurementSchema* measurement(const std::string& key) const;
};
using Catalogue = std::vector<KindSchema>;
const KindSchema* find_kind(const Catalogue& kinds, const std::string& kind);

// Loads fixtures/variants/NAME.toml (or a path), resolving `extends`, against the step kinds a
// station offers. Every error names file:line:column and the key at fault.
Result<Plan> load(const std::filesystem::path& file, const Catalogue& kinds);
// Looks a variant up by id in a directory of variant files.
Result<Plan> load_variant(const std::filesystem::path& dir, const std::string& variant, const Catalogue& kinds);

// The closest candidate within edit distance 2, for "did you mean" hints.
std::optional<std::string> closest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace rig::plan
