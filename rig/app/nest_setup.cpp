#include "rig/app/nest_setup.hpp"

#include <fmt/format.h>
#include <map>

#include "reports/files.hpp"
#include "reports/text.hpp"
#include "rig/devices/scanner.hpp"
#include "rig/io/stream.hpp"
#include "rig/steps/steps.hpp"

namespace rig::app {
namespace fs = std::filesystem;

std::vector<fs::path> variant_dirs(const std::string& given, const fs::path& jig_file, const char* argv0) {
    if (!given.empty()) return {given};
    std::vector<fs::path> dirs;
    const auto jig_dir = fs::absolute(jig_file).parent_path();
    dirs.push_back(jig_dir / "variants");
    dirs.push_back(jig_dir.parent_path() / "variants");
    std::error_code ec;
    const auto exe = fs::canonical("/proc/self/exe", ec);
    dirs.push_back((ec ? fs::path(argv0) : exe).parent_path().parent_path() / "share" / "rig" / "variants");
#ifdef RIG_SOURCE_DIR
    dirs.push_back(fs::path(RIG_SOURCE_DIR) / "fixtures" / "variants");
#endif
    return dirs;
}

Result<plan::Plan> find_plan(const std::vector<fs::path>& dirs, const std::string& variant) {
    std::vector<std::string> tried;
    for (const auto& d : dirs) {
        std::error_code ec;
        if (dirs.size() > 1 && !fs::exists(d / (variant + ".toml"), ec)) {
            tried.push_back(d.string());
            continue;
        }
        return plan::load_variant(d, variant, steps::catalogue());
    }
    return make_error(Errc::not_found, fmt::format("no variant '{}' in {} (give --variants DIR)", variant, fmt::join(tried, ", ")));
}

Result<void> check_plan_fits(const station::JigFile& jig, const plan::Plan& plan) {
    auto refuse = [&](const plan::StepSpec& step, const std::string& why) {
        return make_error(Errc::invalid_argument, fmt::format("{}: variant {} step '{}' ({}) {}", jig.path, plan.id, step.id, step.kind, why));
    };
    auto has_instrument = [&](const std::string& type) {
        for (const auto& i : jig.instruments)
            if (i.type == type) return true;
        return false;
    };
    for (const auto& step : plan.steps) {
        const auto prefix = step.kind.substr(0, step.kind.find('.') + 1);
        if (prefix == "radio." && jig.radio_port.empty()) return refuse(step, "needs the jig's reference transmitter: no [devices.radio] in the jig file");
        if ((prefix == "can." || prefix == "esc.") && jig.can_port.empty()) return refuse(step, "needs a CAN bus: no [devices.can] in the jig file");
    }
    for (const auto& step : plan.steps) {
        const std::string needs = step.kind == "power.supply" ? "psu" : step.kind == "vtx.power" ? "rf_power_meter" : "";
        if (!needs.empty() && !has_instrument(needs))
            return refuse(step, fmt::format("needs a {}: no [instruments.*] with type = \"{}\" in the jig file", needs, needs));
        if (step.kind == "vtx.power" && jig.fc_protocol != "msp")
            return refuse(step, fmt::format("drives the VTX through MSP: [devices.fc] protocol is '{}'", jig.fc_protocol));
    }
    return {};
}

namespace {
// Two nests may name one bench instrument: it is shared, each use locked and routed by the
// nest's own `select`. Anything else on one device is a mistake.
Result<void> check_shared(const station::JigFile& j, const devices::InstrumentConfig& i, const station::JigFile& other,
                          const devices::InstrumentConfig& o) {
    auto refuse = [&](const std::string& why) {
        return make_error(Errc::invalid_argument, fmt::format("{}: [instruments.{}] port '{}' is also [instruments.{}] of {}: {}", j.path, i.name, i.port,
                                                              o.name, other.path, why));
    };
    if (i.type != o.type || i.model != o.model) return refuse(fmt::format("one instrument cannot be a {} {} and a {} {}", i.type, i.model, o.type, o.model));
    if (i.calibration_due != o.calibration_due)
        return refuse(fmt::format("one instrument has one calibration date, not {} and {}", i.calibration_due, o.calibration_due));
    if (i.select.empty() || o.select.empty())
        return refuse("a shared instrument needs each nest's select (its output or RF switch path, e.g. select = \"ROUT:CLOS (@101)\")");
    if (i.select == o.select) return refuse(fmt::format("both select '{}': each nest needs its own output or switch path", i.select));
    return {};
}
}  // namespace

Result<void> check_distinct(const std::vector<station::JigFile>& jigs) {
    std::map<std::string, const station::JigFile*> stations;
    std::map<std::string, std::pair<const station::JigFile*, std::string>> ports;  // device -> jig, key
    std::map<std::string, std::vector<std::pair<const station::JigFile*, const devices::InstrumentConfig*>>> shared;  // device -> users
    for (const auto& j : jigs) {
        if (auto [it, fresh] = stations.emplace(j.station_id, &j); !fresh)
            return make_error(Errc::invalid_argument, fmt::format("{}: station id '{}' is also {}'s: each nest is a station of its own (its own "
                                                                  "certificate chain); give it another [station] id",
                                                                  j.path, j.station_id, it->second->path));
        for (const auto& i : j.instruments) {
            auto& users = shared[io::device_key(i.port)];
            for (const auto& [other, o] : users)
                if (other != &j)
                    if (auto r = check_shared(j, i, *other, *o); !r) return r;
            users.emplace_back(&j, &i);
        }
        std::vector<std::pair<std::string, std::string>> mine = {{"[devices.jig] port", j.jig_port}, {"[devices.fc] port", j.fc_port}};
        if (!j.radio_port.empty()) mine.emplace_back("[devices.radio] port", j.radio_port);
        if (!j.can_port.empty()) mine.emplace_back("[devices.can] port", j.can_port);
        if (devices::is_scanner_device(j.scanner)) {
            // A scanner reads a port of its own: the nest's other devices never share one with it.
            for (const auto& [key, uri] : mine)
                if (io::device_key(uri) == io::device_key(j.scanner))
                    return make_error(Errc::invalid_argument,
                                      fmt::format("{}: [station] scanner '{}' is also {}: a scanner needs a port of its own", j.path, j.scanner, key));
            mine.emplace_back("[station] scanner", j.scanner);
        }
        for (const auto& [key, uri] : mine) {
            auto [it, fresh] = ports.emplace(io::device_key(uri), std::pair{&j, key});
            if (!fresh && it->second.first != &j)
                return make_error(Errc::invalid_argument, fmt::format("{}: {} '{}' is also {} of {}: two nests cannot share a device", j.path, key,
                                                                      uri, it->second.second, it->second.first->path));
        }
    }
    // A port that is one nest's instrument and a jig device (of any nest).
    for (const auto& [device, users] : shared)
        if (auto p = ports.find(device); p != ports.end())
            return make_error(Errc::invalid_argument, fmt::format("{}: [instruments.{}] port '{}' is also {} of {}: a device is a jig's or a bench "
                                                                  "instrument, not both", users.front().first->path, users.front().second->name,
                                                                  users.front().second->port, p->second.second, p->second.first->path));
    return {};
}

fs::path key_file(const DataPaths& paths, const std::string& station, bool first) {
    return first ? paths.key() : paths.root / "keys" / (station + ".key");
}

Result<reports::StationKey> station_key(const fs::path& file, const DataPaths& paths, const std::string& station) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        if (file.parent_path() != paths.root)
            if (auto r = reports::make_directory(file.parent_path(), 0700); !r) return r.error();
        auto made = reports::create_station_key(file, paths.trust(), station, reports::utc_now());
        if (!made) return made.error();
        fmt::print(stderr, "rigd: generated station key {} for station {} in {}\n", made->public_key().keyid(), station, file.string());
    }
    auto key = reports::StationKey::load(file);
    if (!key) return key.error();
    return key;
}

// Keys: the station's own key must be bound to this station by its own trust store, or its
// certificates would be unverifiable (or verifiable as another station's).
Result<reports::TrustStore> bound_trust(const DataPaths& paths, const fs::path& key_file, const reports::StationKey& key, const std::string& station) {
    reports::TrustStore trust;
    if (auto r = trust.add_directory(paths.trust()); !r) return r.error();
    if (auto bound = trust.check(key.public_key().keyid(), station, reports::utc_now()); !bound)
        return make_error(Errc::integrity, fmt::format("{}: station key refused by {}: {}", key_file.string(), paths.trust().string(),
                                                       bound.error().message));
    return trust;
}

}  // namespace rig::app
