// The certificate payload, schema rig.certificate/v1 (ARCHITECTURE.md "Certificates").
// No Asio, no hardware: a QA tool can link this folder alone.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <cstdint>

#include "protocols/common/result.hpp"

namespace rig::reports {

inline constexpr const char* kSchema = "rig.certificate/v1";

enum class Verdict { pass, fail, error };
const char* to_string(Verdict v);
std::optional<Verdict> verdict_from_string(std::string_view s);

// A limit as data, beside its human text, so QA can compute capability (Cpk) and drift from
// certificates alone. JSON: {"kind":"range","min":8500,"max":11500,"unit":"rpm"},
// {"kind":"equals","equals":"BTFL"} or {"kind":"regex","regex":"^2026\\."}.
struct LimitSpec {
    enum class Kind { range, equals, regex };
    Kind kind = Kind::range;
    std::optional<double> min, max;           // range: either side may be open
    std::optional<double> equals_number;      // equals: a number...
    std::optional<std::string> equals_text;   // ...or a text
    std::string regex;
    std::string unit;
    bool operator==(const LimitSpec&) const = default;
};

struct Measurement {
    std::string name;
    double value = 0;         // NaN is stored as null
    std::string unit;
    std::string limit;        // human form, e.g. "[5500, 7500] rpm" or "== BTFL"
    std::string text;         // for string measurements (firmware name, uid); empty otherwise
    Verdict verdict = Verdict::pass;
    std::optional<LimitSpec> limit_spec;  // absent: recorded, not judged
};

struct StepRecord {
    std::string id;           // unique within the plan, e.g. "motors"
    std::string kind;         // e.g. "motors.spin"
    Verdict verdict = Verdict::pass;
    std::string message;      // why it failed or errored; empty on pass
    std::string started_at;
    double duration_s = 0;
    std::vector<Measurement> measurements;
    double instrument_wait_s = 0;  // of duration_s, waiting for shared instruments (written when > 0)
};

// A sub-unit read off the unit during its test (an ESC by its unique id): the unit's genealogy,
// so a field return names the exact parts it was built with.
struct Part {
    std::string position;  // "esc1"
    std::string serial;    // the part's own unique id
    std::string name, firmware, hardware;
    bool operator==(const Part&) const = default;
};

// A bench instrument the station measured with, as it named itself (*IDN?) and with its
// calibration due date from the jig file: a reading is only as good as the instrument's
// calibration, so the certificate names both.
struct Instrument {
    std::string name, type, vendor, model, serial, firmware, calibration_due;
    bool operator==(const Instrument&) const = default;
};

struct Certificate {
    std::string schema = kSchema;
    struct {
        std::string serial, variant, lot;
    } unit;
    Verdict verdict = Verdict::error;
    struct {
        std::string id, fixture_id, calibration_due, software_version;
        std::uint64_t sequence = 0;  // per station, starts at 1; a gap means a lost certificate
        std::vector<Instrument> instruments;  // written only when there are any
    } station;
    std::string operator_id;
    struct {
        std::string id, sha256;
    } plan;
    struct {
        std::string firmware, board, uid;
        std::vector<Part> parts;  // written only when there are any: older certificates keep their bytes
    } dut;
    std::string started_at, finished_at;
    std::vector<StepRecord> steps;
    std::string previous_sha256;  // empty for the station's first certificate
};

// Serialises in a fixed key order; these bytes are what gets signed and hashed.
std::string to_json(const Certificate& c);
Result<Certificate> from_json(std::string_view json);

}  // namespace rig::reports
