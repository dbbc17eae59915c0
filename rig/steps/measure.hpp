// Building a step's output: a measurement is judged against the limit of the same key.
#pragma once
#include "rig/sequencer/sequencer.hpp"

namespace rig::steps {

inline sequencer::Measured number(std::string name, double value, std::string unit, std::string limit_key = "") {
    if (limit_key.empty()) limit_key = name;
    return {std::move(name), std::move(limit_key), value, std::move(unit), "", false, ""};
}
// A value recorded in the certificate but never judged (no limit key).
inline sequencer::Measured recorded(std::string name, double value, std::string unit, std::string declared = "") {
    return {std::move(name), "", value, std::move(unit), "", false, std::move(declared)};
}
inline sequencer::Measured text(std::string name, std::string value, std::string limit_key = "") {
    if (limit_key.empty()) limit_key = name;
    return {std::move(name), std::move(limit_key), 0, "", std::move(value), true, ""};
}
// A text recorded in the certificate but never judged. `declared` is the key its kind declares
// it under (esc1.unique_id is declared as esc_unique_id); it defaults to the name.
inline sequencer::Measured recorded_text(std::string name, std::string value, std::string declared = "") {
    return {std::move(name), "", 0, "", std::move(value), true, std::move(declared)};
}

}  // namespace rig::steps
