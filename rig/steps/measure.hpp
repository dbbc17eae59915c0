// Building a step's output: a measurement is judged against the limit of the same key.
#pragma once
#include "rig/sequencer/sequencer.hpp"

namespace rig::steps {

inline sequencer::Measured number(std::string name, double value, std::string unit, std::string limit_key = "") {
    if (limit_key.empty()) limit_key = name;
    return {std::move(name), std::move(limit_key), value, std::move(unit), "", false};
}
// A value recorded in the certificate but never judged (no limit key).
inline sequencer::Measured recorded(std::string name, double value, std::string unit) {
    return {std::move(name), "", value, std::move(unit), "", false};
}
inline sequencer::Measured text(std::string name, std::string value) {
    std::string key = name;
    return {std::move(name), std::move(key), 0, "", std::move(value), true};
}

}  // namespace rig::steps
