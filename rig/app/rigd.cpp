// rigd: the test-station daemon. Loads the station's jig file and its variant's plan, then tests
// every unit placed in the jig and certifies it.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <ctime>
#include <fmt/format.h>

#include "reports/dsse.hpp"
#include "rig/app/paths.hpp"
#include "rig/archive/archive.hpp"
#include "rig/plan/plan.hpp"
#include "rig/station/station.hpp"

#ifndef RIG_VERSION
#define RIG_VERSION "0.0.0"
#endif

namespace asio = boost::asio;
using namespace rig;

namespace {
int fatal(const std::string& message) {
    fmt::print(stderr, "rigd: {}\n", message);
    return 2;
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"rigd: end-of-line test station daemon"};
    std::string jig_file, variants_dir = "fixtures/variants", data_dir = app::default_data_dir().string(), operator_id = "unknown", variant;
    int units = 0;
    cli.add_option("--jig", jig_file, "station jig file (TOML)")->required();
    cli.add_option("--variants", variants_dir, "directory of variant plans")->capture_default_str();
    cli.add_option("--variant", variant, "variant to test (default: the jig file's station.variant)");
    cli.add_option("--data", data_dir, "data directory: station key, archive, certificates")->capture_default_str();
    cli.add_option("--operator", operator_id, "operator id recorded in certificates");
    cli.add_option("--units", units, "stop after this many units (0: run until SIGTERM)");
    CLI11_PARSE(cli, argc, argv);

    auto jig = station::load_jigfile(jig_file);
    if (!jig) return fatal(jig.error().message);
    if (!variant.empty()) jig->variant = variant;
    {
        // A fixture past its calibration date must not certify anything.
        const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
        std::tm tm{};
        gmtime_r(&now, &tm);
        char today[11];
        std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
        if (jig->calibration_due < today)
            return fatal(fmt::format("{}: fixture {} calibration expired on {} (station.calibration_due); recalibrate before testing",
                                     jig->path, jig->fixture_id, jig->calibration_due));
    }
    auto plan = plan::load_variant(variants_dir, jig->variant);
    if (!plan) return fatal(plan.error().message);

    const app::DataPaths paths{data_dir};
    std::error_code ec;
    std::filesystem::create_directories(paths.root, ec);
    if (ec) return fatal(fmt::format("{}: cannot create data directory: {}", paths.root.string(), ec.message()));
    if (!std::filesystem::exists(paths.key())) {
        auto key = reports::StationKey::generate();
        if (auto r = key.save(paths.key(), paths.public_key(jig->station_id, key.public_key().keyid())); !r) return fatal(r.error().message);
        fmt::print(stderr, "rigd: generated station key {} in {}\n", key.public_key().keyid(), paths.key().string());
    }
    auto key = reports::StationKey::load(paths.key());
    if (!key) return fatal(key.error().message);
    auto archive = archive::Archive::open(paths.archive());
    if (!archive) return fatal(archive.error().message);

    // The io_context outlives the station: its ports are Asio objects bound to it.
    asio::io_context io;
    station::Config cfg{*jig, *plan, paths.certificates(), operator_id, RIG_VERSION, units};
    station::Station st(std::move(cfg), std::move(*key), *archive);
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
