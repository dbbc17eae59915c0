#include "rig/station/jigfile.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fmt/format.h>
#include <map>
#include <vector>
#include <toml++/toml.h>

#include "reports/text.hpp"
#include "rig/io/can.hpp"
#include "rig/devices/scanner.hpp"
#include "rig/io/stream.hpp"
#include "rig/plan/plan.hpp"

namespace rig::station {

namespace {
std::string loc(const toml::source_region& r) {
    return fmt::format("{}:{}:{}", r.path ? *r.path : std::string{}, r.begin.line, r.begin.column);
}

bool is_calendar_date(const std::string& d) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u})
        if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
    const int y = std::stoi(d.substr(0, 4)), m = std::stoi(d.substr(5, 2)), day = std::stoi(d.substr(8, 2));
    if (m < 1 || m > 12 || day < 1) return false;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return day <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

// A typo in a jig file ("lott", "protocl") would silently drop a setting: every key is known.
std::string unknown_keys(const toml::table& t) {
    const std::map<std::string, std::vector<std::string>> allowed = {
        {"", {"station", "devices", "instruments"}},
        {"station", {"id", "fixture_id", "calibration_due", "variant", "lot", "scanner", "start", "factory"}},
        {"devices", {"jig", "fc", "radio", "can"}},
        {"devices.jig", {"port"}},
        {"devices.fc", {"port", "protocol", "acc_1g", "gyro_counts_per_dps", "mag_counts_per_mgauss"}},
        {"devices.radio", {"port", "protocol"}},
        {"devices.can", {"port", "protocol", "node_id"}},
    };
    std::string problem;
    auto walk = [&](auto&& self, const toml::table& tbl, const std::string& prefix) -> void {
        const auto& names = allowed.at(prefix);
        for (auto&& [k, v] : tbl) {
            if (!problem.empty()) return;
            const std::string key(k.str());
            const std::string path = prefix.empty() ? key : prefix + "." + key;
            if (std::find(names.begin(), names.end(), key) == names.end()) {
                auto hint = plan::closest(key, names);
                problem = fmt::format("{}: unknown key '{}'{}", loc(k.source()), reports::printable(path),
                                      hint ? fmt::format(" (did you mean '{}'?)", *hint) : "");
                return;
            }
            if (path == "instruments") {
                if (!v.is_table()) problem = fmt::format("{}: key 'instruments' must be a table", loc(v.source()));
                continue;
            }
            if (allowed.count(path)) {
                if (!v.is_table()) {
                    problem = fmt::format("{}: key '{}' must be a table", loc(v.source()), path);
                    return;
                }
                self(self, *v.as_table(), path);
            }
        }
    };
    walk(walk, t, "");
    return problem;
}

// [instruments.NAME]: a bench instrument, its port, the model *IDN? must name, its calibration,
// and its type's settings. Every key is known and belongs to the type.
Result<devices::InstrumentConfig> load_instrument(const std::string& name, const toml::table& t) {
    using devices::InstrumentConfig;
    const std::string at = "instruments." + name;
    static const std::map<std::string, std::vector<std::string>> keys = {
        {"psu", {"type", "port", "model", "calibration_due", "select", "lock_timeout_ms", "voltage", "current_limit", "ovp", "inrush_window_ms"}},
        {"rf_power_meter", {"type", "port", "model", "calibration_due", "select", "lock_timeout_ms", "offset_db", "averages"}},
        {"dmm", {"type", "port", "model", "calibration_due", "select", "lock_timeout_ms"}},
    };
    auto fail = [&](const toml::source_region& r, const std::string& msg) { return make_error(Errc::invalid_argument, fmt::format("{}: {}", loc(r), msg)); };
    InstrumentConfig c;
    c.name = name;
    auto text = [&](const char* key, std::string& into) -> Result<void> {
        auto node = t[key];
        if (!node) return fail(t.source(), fmt::format("missing key '{}.{}'", at, key));
        if (!node.is_string() || node.value<std::string>()->empty())
            return fail(node.node()->source(), fmt::format("key '{}.{}' must be a non-empty string", at, key));
        into = *node.value<std::string>();
        return {};
    };
    if (auto r = text("type", c.type); !r) return r.error();
    if (!keys.count(c.type))
        return fail(t["type"].node()->source(), fmt::format("key '{}.type': unknown instrument type '{}' (psu, rf_power_meter, dmm)", at,
                                                            reports::printable(c.type)));
    const auto& allowed = keys.at(c.type);
    for (auto&& [k, v] : t) {
        const std::string key(k.str());
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        auto hint = plan::closest(key, allowed);
        return fail(k.source(), fmt::format("unknown key '{}.{}' for a {}{}", at, reports::printable(key), c.type,
                                            hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
    }
    for (auto [key, into] : {std::pair{"port", &c.port}, {"model", &c.model}, {"calibration_due", &c.calibration_due}})
        if (auto r = text(key, *into); !r) return r.error();
    if (auto u = io::parse_uri(c.port); !u) return fail(t["port"].node()->source(), fmt::format("key '{}.port': {}", at, u.error().message));
    if (!is_calendar_date(c.calibration_due))
        return fail(t["calibration_due"].node()->source(), fmt::format("key '{}.calibration_due': '{}' is not a date (YYYY-MM-DD)", at,
                                                                       reports::printable(c.calibration_due)));
    if (t["select"]) {
        if (auto r = text("select", c.select); !r) return r.error();
        // One program message, sent as written: no line ends or other control characters.
        if (std::any_of(c.select.begin(), c.select.end(), [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; }))
            return fail(t["select"].node()->source(), fmt::format("key '{}.select' must be one line of SCPI without control characters", at));
    }
    auto number = [&](const char* key, double& into, double lo, double hi, bool required, bool integer) -> Result<void> {
        auto node = t[key];
        if (!node) {
            if (required) return fail(t.source(), fmt::format("missing key '{}.{}'", at, key));
            return {};
        }
        auto v = node.value<double>();
        if (!node.is_number() || (integer && !node.is_integer()) || !v || !(*v >= lo && *v <= hi))
            return fail(node.node()->source(), fmt::format("key '{}.{}' must be {} in {}..{}", at, key, integer ? "an integer" : "a number", lo, hi));
        into = *v;
        return {};
    };
    double window = c.inrush_window_ms, averages = c.averages, lock_timeout = c.lock_timeout_ms;
    for (auto [key, into, lo, hi, required, integer] :
         {std::tuple{"lock_timeout_ms", &lock_timeout, 100.0, 600000.0, false, true}, {"voltage", &c.voltage_v, 0.1, 100.0, c.type == "psu", false}, {"current_limit", &c.current_limit_a, 0.001, 50.0, c.type == "psu", false},
          {"ovp", &c.ovp_v, 0.1, 110.0, false, false}, {"inrush_window_ms", &window, 0.0, 2000.0, false, true},
          {"offset_db", &c.offset_db, -20.0, 90.0, false, false}, {"averages", &averages, 1.0, 1024.0, false, true}})
        if (auto r = number(key, *into, lo, hi, required, integer); !r) return r.error();
    c.inrush_window_ms = static_cast<int>(window);
    c.averages = static_cast<int>(averages);
    c.lock_timeout_ms = static_cast<int>(lock_timeout);
    if (c.ovp_v > 0 && c.ovp_v <= c.voltage_v)
        return fail(t["ovp"].node()->source(), fmt::format("key '{}.ovp' ({} V) must be above '{}.voltage' ({} V)", at, c.ovp_v, at, c.voltage_v));
    return c;
}

Result<void> load_instruments(const toml::table& root, JigFile& j) {
    auto* all = root["instruments"].as_table();
    if (!all) return {};
    for (auto&& [k, v] : *all) {
        const std::string name(k.str());
        if (auto why = reports::id_problem(name))
            return make_error(Errc::invalid_argument, fmt::format("{}: instrument name '{}': {}", loc(k.source()), reports::printable(name), *why));
        if (!v.is_table()) return make_error(Errc::invalid_argument, fmt::format("{}: key 'instruments.{}' must be a table", loc(v.source()), name));
        auto c = load_instrument(name, *v.as_table());
        if (!c) return c.error();
        for (const auto& other : j.instruments)
            if (other.type == c->type)
                return make_error(Errc::invalid_argument, fmt::format("{}: instruments '{}' and '{}' are both a {}: one per station", loc(k.source()),
                                                                      other.name, name, c->type));
        j.instruments.push_back(std::move(*c));
    }
    return {};
}
}  // namespace

Result<JigFile> load_jigfile(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return make_error(Errc::not_found, fmt::format("{}: no such jig file", file.string()));
    if (!std::filesystem::is_regular_file(file, ec)) return make_error(Errc::invalid_argument, fmt::format("{}: not a regular file", file.string()));
    toml::table t;
    try {
        t = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        return make_error(Errc::invalid_argument, fmt::format("{}: {}", loc(e.source()), e.description()));
    }
    if (auto bad = unknown_keys(t); !bad.empty()) return make_error(Errc::invalid_argument, bad);
    JigFile j;
    j.path = file.string();
    const toml::source_region top{{1, 1}, {1, 1}, std::make_shared<const std::string>(file.string())};
    auto need = [&](const char* dotted, std::string& into, bool required) -> Result<void> {
        auto node = t.at_path(dotted);
        if (!node) {
            if (required) return make_error(Errc::invalid_argument, fmt::format("{}: missing key '{}'", loc(top), dotted));
            return {};
        }
        if (!node.is_string()) return make_error(Errc::invalid_argument, fmt::format("{}: key '{}' must be a string", loc(node.node()->source()), dotted));
        into = *node.value<std::string>();
        return {};
    };
    for (auto [key, into, required] : {std::tuple{"station.id", &j.station_id, true}, {"station.fixture_id", &j.fixture_id, true},
                                       {"station.calibration_due", &j.calibration_due, true}, {"station.variant", &j.variant, true},
                                       {"station.lot", &j.lot, false}, {"station.scanner", &j.scanner, false},
                                       {"station.start", &j.start, false}, {"station.factory", &j.factory, false},
                                       {"devices.jig.port", &j.jig_port, true},
                                       {"devices.fc.port", &j.fc_port, true}, {"devices.fc.protocol", &j.fc_protocol, false},
                                       {"devices.radio.port", &j.radio_port, false}, {"devices.radio.protocol", &j.radio_protocol, false},
                                       {"devices.can.port", &j.can_port, false}, {"devices.can.protocol", &j.can_protocol, false}}) {
        if (auto r = need(key, *into, required); !r) return r.error();
    }
    for (auto [key, value] : {std::pair{"station.id", &j.station_id}, {"station.fixture_id", &j.fixture_id}, {"station.variant", &j.variant},
                              {"station.lot", &j.lot}}) {
        if (value->empty() && std::string_view(key) == "station.lot") continue;
        if (auto why = reports::id_problem(*value))
            return make_error(Errc::invalid_argument, fmt::format("{}: key '{}': {}", loc(t.at_path(key).node()->source()), key, *why));
    }
    if (!j.factory.empty() && !j.factory.starts_with("postgresql://") && !j.factory.starts_with("postgres://"))
        return make_error(Errc::invalid_argument, fmt::format("{}: key 'station.factory': not a postgresql:// URL",
                                                              loc(t.at_path("station.factory").node()->source())));
    {
        // YYYY-MM-DD and a real calendar date, so that dates compare as text and certificates
        // carry one format.
        const auto& d = j.calibration_due;
        if (!is_calendar_date(d))
            return make_error(Errc::invalid_argument, fmt::format("{}: key 'station.calibration_due': '{}' is not a date (YYYY-MM-DD)",
                                                                  loc(t.at_path("station.calibration_due").node()->source()), d));
    }
    for (auto [key, into, lo, hi] : {std::tuple{"devices.fc.acc_1g", &j.acc_1g, 1.0, 65536.0},
                                     {"devices.fc.gyro_counts_per_dps", &j.gyro_counts_per_dps, 0.001, 1000.0},
                                     {"devices.fc.mag_counts_per_mgauss", &j.mag_counts_per_mgauss, 0.0001, 1000.0}}) {
        auto node = t.at_path(key);
        if (!node) continue;
        auto v = node.value<double>();
        if (!node.is_number() || !v || !(*v >= lo && *v <= hi))
            return make_error(Errc::invalid_argument, fmt::format("{}: key '{}' must be a number in {}..{}", loc(node.node()->source()), key, lo, hi));
        *into = *v;
    }
    if (auto node = t.at_path("devices.can.node_id")) {
        // 126 and 127 are the tools' (a DroneCAN GUI on the same bus); 0 is anonymous.
        auto v = node.value<std::int64_t>();
        if (!node.is_integer() || !v || *v < 1 || *v > 125)
            return make_error(Errc::invalid_argument, fmt::format("{}: key 'devices.can.node_id' must be an integer in 1..125 (rig's own DroneCAN node id)",
                                                                  loc(node.node()->source())));
        j.can_node_id = static_cast<int>(*v);
    }
    if (t.at_path("devices.can") && j.can_port.empty())
        return make_error(Errc::invalid_argument, fmt::format("{}: missing key 'devices.can.port'", loc(t.at_path("devices.can").node()->source())));
    if (!j.can_port.empty())
        if (auto u = io::parse_can_uri(j.can_port); !u)
            return make_error(Errc::invalid_argument, fmt::format("{}: key 'devices.can.port': {}", loc(t.at_path("devices.can.port").node()->source()),
                                                                  u.error().message));
    if (j.can_protocol != "dronecan")
        return make_error(Errc::invalid_argument, fmt::format("{}: key 'devices.can.protocol': unknown protocol '{}' (dronecan)",
                                                              loc(t.at_path("devices.can.protocol").node()->source()), reports::printable(j.can_protocol)));
    if (t.at_path("devices.radio") && j.radio_port.empty())
        return make_error(Errc::invalid_argument, fmt::format("{}: missing key 'devices.radio.port'", loc(t.at_path("devices.radio").node()->source())));
    for (auto [key, uri] : {std::pair{"devices.jig.port", &j.jig_port}, {"devices.fc.port", &j.fc_port}, {"devices.radio.port", &j.radio_port}}) {
        if (uri->empty()) continue;
        auto u = io::parse_uri(*uri);
        if (!u) return make_error(Errc::invalid_argument, fmt::format("{}: key '{}': {}", loc(t.at_path(key).node()->source()), key, u.error().message));
        if (u->scheme == io::PortUri::Scheme::usbtmc)
            return make_error(Errc::invalid_argument, fmt::format("{}: key '{}': usbtmc: is for bench instruments ([instruments.*]); this device is a byte stream (serial:, tcp:, usb-serial:)",
                                                                  loc(t.at_path(key).node()->source()), key));
    }
    if (auto r = load_instruments(t, j); !r) return r.error();
    if (j.fc_protocol != "msp" && j.fc_protocol != "mavlink")
        return make_error(Errc::invalid_argument, fmt::format("{}: key 'devices.fc.protocol': unknown protocol '{}' (msp, mavlink)",
                                                              loc(t.at_path("devices.fc.protocol").node()->source()), reports::printable(j.fc_protocol)));
    if (devices::is_scanner_device(j.scanner)) {
        if (auto bad = devices::scanner_setting_problem(j.scanner))
            return make_error(Errc::invalid_argument, fmt::format("{}: key 'station.scanner': {}", loc(t.at_path("station.scanner").node()->source()),
                                                                  reports::printable(*bad)));
    }
    if (j.start != "lid" && j.start != "operator")
        return make_error(Errc::invalid_argument, fmt::format("{}: key 'station.start': unknown start '{}' (lid, operator)",
                                                              loc(t.at_path("station.start").node()->source()), reports::printable(j.start)));
    if (j.radio_protocol != "crsf")
        return make_error(Errc::invalid_argument, fmt::format("{}: key 'devices.radio.protocol': unknown protocol '{}' (crsf)",
                                                              loc(t.at_path("devices.radio.protocol").node()->source()), reports::printable(j.radio_protocol)));
    return j;
}

std::string today_utc() {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char today[11];
    std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
    return today;
}

std::string expired_calibration(const JigFile& jig, const std::string& today) {
    if (jig.calibration_due < today)
        return fmt::format("{}: fixture {} calibration expired on {} (station.calibration_due); recalibrate before testing", jig.path,
                           jig.fixture_id, jig.calibration_due);
    for (const auto& i : jig.instruments)
        if (i.calibration_due < today)
            return fmt::format("{}: instrument {} ({} {}) calibration expired on {} (instruments.{}.calibration_due); recalibrate before testing",
                               jig.path, i.name, i.type, i.model, i.calibration_due, i.name);
    return "";
}

}  // namespace rig::station
