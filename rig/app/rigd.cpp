// rigd: the test-station daemon. Loads the station's jig file and its variant's plan, then tests
// every unit placed in the jig and certifies it.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fmt/format.h>

#include "reports/dsse.hpp"
#include "reports/files.hpp"
#include "reports/text.hpp"
#include "reports/trust.hpp"
#include "rig/io/lock.hpp"
#include "rig/app/paths.hpp"
#include "rig/archive/ledger.hpp"
#include "rig/plan/plan.hpp"
#include "rig/station/station.hpp"
#include "rig/steps/steps.hpp"

#ifndef RIG_VERSION
#define RIG_VERSION "0.0.0"
#endif

namespace asio = boost::asio;
using namespace rig;

namespace fs = std::filesystem;

namespace {
int fatal(const std::string& message) {
    fmt::print(stderr, "rigd: {}\n", reports::printable(message));
    return 2;
}

// Where a variant's plan is looked for when --variants is not given: beside the jig file (a
// station keeps its jigs and variants together), the installed share directory, the source tree.
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

// Keys: the station's own key must be bound to this station by its own trust store, or its
// certificates would be unverifiable (or verifiable as another station's).
Result<reports::StationKey> station_key(const app::DataPaths& paths, const std::string& station) {
    std::error_code ec;
    if (!fs::exists(paths.key(), ec)) {
        auto made = reports::create_station_key(paths.key(), paths.trust(), station, reports::utc_now());
        if (!made) return made.error();
        fmt::print(stderr, "rigd: generated station key {} for station {} in {}\n", made->public_key().keyid(), station, paths.key().string());
    }
    auto key = reports::StationKey::load(paths.key());
    if (!key) return key.error();
    return key;
}

Result<reports::TrustStore> bound_trust(const app::DataPaths& paths, const reports::StationKey& key, const std::string& station) {
    reports::TrustStore trust;
    if (auto r = trust.add_directory(paths.trust()); !r) return r.error();
    if (auto bound = trust.check(key.public_key().keyid(), station, reports::utc_now()); !bound)
        return make_error(Errc::integrity, fmt::format("{}: station key refused by {}: {}", paths.key().string(), paths.trust().string(),
                                                       bound.error().message));
    return trust;
}
}  // namespace

int main(int argc, char** argv) {
    // Operator-facing lines reach the terminal or log as they are written, even before a SIGKILL.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    CLI::App cli{"rigd: end-of-line test station daemon"};
    std::string jig_file, variants_dir, data_dir = app::default_data_dir().string(), operator_id = "unknown", variant;
    int units = 0;
    cli.add_option("--jig", jig_file, "station jig file (TOML)")->required();
    cli.add_option("--variants", variants_dir, "directory of variant plans (default: beside the jig file, then the installed share directory)");
    cli.add_option("--variant", variant, "variant to test (default: the jig file's station.variant)");
    cli.add_option("--data", data_dir, "data directory: station key, archive, certificates")->capture_default_str();
    cli.add_option("--operator", operator_id, "operator id recorded in certificates");
    cli.add_option("--units", units, "stop after this many units (0: run until SIGTERM)")->check(CLI::Range(0, 1000000));
    // Bad arguments: one line naming the argument, exit 2 (CLI11's own codes are 100+).
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return cli.exit(e);
        std::fprintf(stderr, "rigd: %s (see --help)\n", e.what());
        return 2;
    }

    // Everything is validated before anything is written.
    if (auto why = reports::id_problem(operator_id)) return fatal("--operator: operator id " + *why);
    auto jig = station::load_jigfile(jig_file);
    if (!jig) return fatal(jig.error().message);
    if (!variant.empty()) {
        if (auto why = reports::id_problem(variant)) return fatal("--variant: variant id " + *why);
        jig->variant = variant;
    }
    if (auto expired = station::expired_calibration(*jig, station::today_utc()); !expired.empty()) return fatal(expired);
    auto plan = find_plan(variant_dirs(variants_dir, jig_file, argv[0]), jig->variant);
    if (!plan) return fatal(plan.error().message);
    for (const auto& step : plan->steps)
        if (step.kind.rfind("radio.", 0) == 0 && jig->radio_port.empty())
            return fatal(fmt::format("{}: variant {} step '{}' ({}) needs the jig's reference transmitter: no [devices.radio] in the jig file", jig->path,
                                     plan->id, step.id, step.kind));
    for (const auto& step : plan->steps)
        if ((step.kind.rfind("can.", 0) == 0 || step.kind.rfind("esc.", 0) == 0) && jig->can_port.empty())
            return fatal(fmt::format("{}: variant {} step '{}' ({}) needs a CAN bus: no [devices.can] in the jig file", jig->path, plan->id, step.id,
                                     step.kind));
    auto has_instrument = [&](const char* type) {
        for (const auto& i : jig->instruments)
            if (i.type == type) return true;
        return false;
    };
    for (const auto& step : plan->steps) {
        const char* needs = step.kind == "power.supply" ? "psu" : step.kind == "vtx.power" ? "rf_power_meter" : nullptr;
        if (needs && !has_instrument(needs))
            return fatal(fmt::format("{}: variant {} step '{}' ({}) needs a {}: no [instruments.*] with type = \"{}\" in the jig file", jig->path,
                                     plan->id, step.id, step.kind, needs, needs));
        if (step.kind == "vtx.power" && jig->fc_protocol != "msp")
            return fatal(fmt::format("{}: variant {} step '{}' (vtx.power) drives the VTX through MSP: [devices.fc] protocol is '{}'", jig->path,
                                     plan->id, step.id, jig->fc_protocol));
    }

    const app::DataPaths paths{data_dir};
    if (auto r = reports::make_directory(paths.root, 0750); !r) return fatal(r.error().message);
    auto lock = io::PidLock::acquire(paths.lock(), "data directory " + paths.root.string());
    if (!lock) return fatal(lock.error().message);
    auto key = station_key(paths, jig->station_id);
    if (!key) return fatal(key.error().message);
    auto trust = bound_trust(paths, *key, jig->station_id);
    if (!trust) return fatal(trust.error().message);
    auto ledger = archive::Ledger::open({paths.archive(), paths.certificates(), paths.checkpoints()}, jig->station_id, std::move(*key),
                                        std::move(*trust), [&](const std::string& line) {
                                            fmt::print(stderr, "station={} {}\n", jig->station_id, reports::printable(line));
                                        });
    if (!ledger) return fatal(ledger.error().message);

    // The io_context outlives the station: its ports are Asio objects bound to it.
    asio::io_context io;
    station::Config cfg{*jig, *plan, operator_id, RIG_VERSION, units};
    station::Station st(std::move(cfg), *ledger);
    fmt::print(stderr, "rigd: station {} variant {} plan sha256 {} data {}\n", jig->station_id, plan->id, plan->sha256.substr(0, 16),
               paths.root.string());

    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& e, int sig) {
        if (e) return;
        fmt::print(stderr, "rigd: {} received, making the station safe\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        st.shutdown(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    });
    int exit_code = 0;
    auto main_task = [&]() -> asio::awaitable<void> {
        auto r = co_await st.run();
        signals.cancel();
        if (!r) {
            exit_code = fatal(r.error().message);
            co_return;
        }
        fmt::print("rigd: {} tested: {} pass, {} fail, {} error; {} aborted, {} not tested\n", r->tested, r->passed, r->failed, r->errored,
                   r->aborted, r->rejected);
        if (r->aborted) exit_code = 3;
        if (!r->exports_pending.empty()) {
            // Certified and durable in the archive, but the exported copies are incomplete: say
            // so loudly and exit non-zero; the next start re-exports them.
            fmt::print(stderr, "rigd: certificate files not exported (the archive holds them; rigd re-exports at next start): {}\n",
                       reports::printable(r->exports_pending));
            exit_code = 4;
        }
    };
    asio::co_spawn(io, main_task(), [&](std::exception_ptr ep) {
        if (!ep) return;
        signals.cancel();
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            exit_code = fatal(std::string("internal error: ") + e.what());
        }
    });
    io.run();
    return exit_code;
}
