#include "rig/station/jigfile.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <toml++/toml.h>

#include "rig/io/stream.hpp"

namespace rig::station {

namespace {
std::string loc(const toml::source_region& r) {
    return fmt::format("{}:{}:{}", r.path ? *r.path : std::string{}, r.begin.line, r.begin.column);
}
}  // namespace

Result<JigFile> load_jigfile(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return make_error(Errc::not_found, fmt::format("{}: no such jig file", file.string()));
    toml::table t;
    try {
        t = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
        return make_error(Errc::invalid_argument, fmt::format("{}: {}", loc(e.source()), e.description()));
    }
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
                                       {"station.lot", &j.lot, false}, {"devices.jig.port", &j.jig_port, true},
                                       {"devices.fc.port", &j.fc_port, true}, {"devices.fc.protocol", &j.fc_protocol, false}}) {
        if (auto r = need(key, *into, required); !r) return r.error();
    }
    {
        // YYYY-MM-DD, so that dates compare as text and certificates carry one format.
        const auto& d = j.calibration_due;
        const bool ok = d.size() == 10 && d[4] == '-' && d[7] == '-' &&
                        std::all_of(d.begin(), d.end(), [](char c) { return c == '-' || std::isdigit(static_cast<unsigned char>(c)); });
        if (!ok)
            return make_error(Errc::invalid_argument, fmt::format("{}: key 'station.calibration_due': '{}' is not a date (YYYY-MM-DD)",
                                                                  loc(t.at_path("station.calibration_due").node()->source()), d));
    }
    for (auto [key, uri] : {std::pair{"devices.jig.port", &j.jig_port}, {"devices.fc.port", &j.fc_port}}) {
        if (auto u = io::parse_uri(*uri); !u)
            return make_error(Errc::invalid_argument, fmt::format("{}: key '{}': {}", loc(t.at_path(key).node()->source()), key, u.error().message));
    }
    if (j.fc_protocol != "msp")
        return make_error(Errc::invalid_argument, fmt::format("{}: key 'devices.fc.protocol': '{}' is not supported yet (msp)",
                                                              loc(t.at_path("devices.fc.protocol").node()->source()), j.fc_protocol));
    return j;
}

}  // namespace rig::station
