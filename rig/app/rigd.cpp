// rigd: the test-station daemon. Runs one nest per jig file on one io_context thread: each loads
// its variant's plan, tests every unit placed in its jig and certifies it in the data
// directory's archive, through one archive writer with group commit.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <sstream>
#include <sys/resource.h>

#include "reports/files.hpp"
#include "reports/text.hpp"
#include "rig/app/allocator.hpp"
#include "rig/app/control.hpp"
#include "rig/app/line.hpp"
#include "rig/app/rigd_api.hpp"
#include "rig/app/service.hpp"
#include "rig/api/openapi.hpp"
#include "rig/api/server.hpp"
#include "rig/app/nest_setup.hpp"
#include "rig/app/paths.hpp"
#include "rig/archive/writer.hpp"
#include "rig/factory/forwarder.hpp"
#include "rig/devices/scpi_instruments.hpp"
#include "rig/io/lock.hpp"
#include "rig/io/stall.hpp"
#include "rig/station/station.hpp"

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

using app::Nest;

struct Options {
    std::vector<std::string> jig_files;
    std::string variants_dir, data_dir = app::default_data_dir().string(), operator_id = "unknown", variant;
    int units = 0;
    int nice = -10;
    std::string listen, page, tls_cert, tls_key;
    std::string factory;    // the factory archive's URL (postgresql://...), or the jig files'
    double factory_drain = 5;  // seconds rigd waits at exit for the forwarder to catch up
    int factory_reply_timeout = 30;  // seconds a forwarded statement may wait for the server
};

// --factory, or the jig files' station.factory (which must agree), or "" for none.
Result<std::string> factory_url(const Options& o, const std::vector<Nest>& nests) {
    if (!o.factory.empty()) {
        if (!factory::pg::is_url(o.factory)) return make_error(Errc::invalid_argument, fmt::format("--factory {}: not a postgresql:// URL", factory::pg::redact(o.factory)));
        return o.factory;
    }
    std::string url;
    for (const auto& n : nests) {
        if (n.jig.factory.empty()) continue;
        if (!url.empty() && url != n.jig.factory)
            return make_error(Errc::invalid_argument, fmt::format("{}: key 'station.factory' names another factory archive than the other jig files "
                                                                  "(one rigd forwards to one)",
                                                                  n.jig.path));
        url = n.jig.factory;
    }
    return url;
}

// The default address of the API and page: 127.0.0.1:8420, or $RIG_LISTEN (tests: port 0).
std::string default_listen() {
    const char* env = std::getenv("RIG_LISTEN");
    return env && *env ? env : "127.0.0.1:8420";
}

// Every nest's jig file and plan, checked before anything is written.
Result<std::vector<Nest>> load_nests(const Options& o, const char* argv0) {
    std::vector<Nest> nests;
    std::vector<station::JigFile> jigs;
    for (const auto& file : o.jig_files) {
        auto jig = station::load_jigfile(file);
        if (!jig) return jig.error();
        if (!o.variant.empty()) jig->variant = o.variant;
        if (auto expired = station::expired_calibration(*jig, station::today_utc()); !expired.empty())
            return make_error(Errc::invalid_argument, expired);
        auto plan = app::find_plan(app::variant_dirs(o.variants_dir, file, argv0), jig->variant);
        if (!plan) return plan.error();
        if (auto fits = app::check_plan_fits(*jig, *plan); !fits) return fits.error();
        jigs.push_back(*jig);
        nests.push_back(Nest{std::move(*jig), std::move(*plan), {}, {}, {}});
    }
    if (auto d = app::check_distinct(jigs); !d) return d.error();
    return nests;
}

// (A coroutine lambda's captures die with the lambda: a plain function keeps its argument.)
asio::awaitable<void> run_nest(Nest& n) { n.result.emplace(co_await n.station->run()); }

// One control request (control.hpp), answered on the io thread.
// systemd's STATUS line: "2 nests: 1 testing, 1 waiting; 14 tested: 13 pass, 1 fail, 0 error, 0 aborted"
std::string service_status(const std::vector<Nest>& nests) {
    int testing = 0, waiting = 0, other = 0;
    station::Totals sum;
    for (const auto& n : nests) {
        if (!n.station) continue;
        const auto v = n.station->view();
        if (v.state == station::NestState::running) ++testing;
        else if (v.state == station::NestState::out_of_service || v.state == station::NestState::jig_lost || v.state == station::NestState::stopped) ++other;
        else ++waiting;
        sum.tested += v.totals.tested;
        sum.passed += v.totals.passed;
        sum.failed += v.totals.failed;
        sum.errored += v.totals.errored;
        sum.aborted += v.totals.aborted;
    }
    return fmt::format("{} nest{}: {} testing, {} waiting, {} stopped or out of service; {} tested: {} pass, {} fail, {} error, {} aborted",
                       nests.size(), nests.size() == 1 ? "" : "s", testing, waiting, other, sum.tested, sum.passed, sum.failed, sum.errored,
                       sum.aborted);
}

std::string control_reply(std::vector<Nest>& nests, const std::string& request) {
    std::istringstream in(request);
    std::string command, station, reason;
    in >> command >> station;
    std::getline(in >> std::ws, reason);
    if (command == "status") {
        std::string out;
        for (const auto& n : nests)
            if (n.station) out += n.station->status() + "\n";
        return out;
    }
    if (command != "out-of-service" && command != "in-service")
        return "error: unknown request '" + reports::printable(command) + "' (status, out-of-service STATION REASON, in-service STATION)";
    std::string known;
    for (auto& n : nests) {
        if (n.jig.station_id != station) {
            known += (known.empty() ? "" : ", ") + n.jig.station_id;
            continue;
        }
        if (!n.station || n.result) return "error: nest " + station + " has stopped";
        const bool out = command == "out-of-service";
        if (out && reason.empty()) return "error: out-of-service needs a reason (it is logged and shown to the operator)";
        fmt::print(stderr, "station={} event=control request=\"{}\"\n", station, reports::printable(request));
        n.station->set_out_of_service(out, reports::printable(reason));
        return "ok: " + n.station->status();
    }
    return "error: no nest '" + reports::printable(station) + "' in this rigd (nests: " + known + ")";
}

// Every nest's timing rests on one io thread: a dwell ends, a HEARTBEAT goes out, a reply is
// read when that thread gets a core. On a loaded host (64 nests and a simulated line on 2 cores)
// it waited behind other processes for a time slice: 7 % of dwells ended 2-8 ms late at nice 0,
// 0.24 % at nice -10. Set before any thread starts, so rigd's threads (archive writer, backup
// heartbeats) inherit it. Refused without CAP_SYS_NICE: rigd says so and runs on.
void set_priority(int nice) {
    if (nice == 0) return;
    if (::setpriority(PRIO_PROCESS, 0, nice) == 0) {
        fmt::print(stderr, "rigd: scheduling priority nice {}\n", nice);
        return;
    }
    fmt::print(stderr,
               "rigd: WARNING: scheduling priority nice {} refused ({}): step timing jitter grows when the host is loaded; give rigd "
               "CAP_SYS_NICE (systemd: Nice={}) or start it with --nice 0\n",
               nice, std::strerror(errno), nice);
}

void print_totals(const Nest& n, bool named) {
    const auto& r = **n.result;
    fmt::print("rigd: {}{} tested: {} pass, {} fail, {} error; {} aborted, {} not tested\n", named ? n.jig.station_id + ": " : "", r.tested,
               r.passed, r.failed, r.errored, r.aborted, r.rejected);
}
}  // namespace

int main(int argc, char** argv) {
    // Operator-facing lines reach the terminal or log as they are written, even before a SIGKILL.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    CLI::App cli{"rigd: end-of-line test station daemon"};
    cli.set_version_flag("--version", "rigd " RIG_VERSION);
    Options o;
    cli.add_option("--jig", o.jig_files, "jig file (TOML) of a nest; give one per nest (--jig A.toml --jig B.toml, or --jig A.toml B.toml)")
        ->required();
    cli.add_option("--variants", o.variants_dir, "directory of variant plans (default: beside the jig file, then the installed share directory)");
    cli.add_option("--variant", o.variant, "variant to test (default: each jig file's station.variant)");
    cli.add_option("--data", o.data_dir, "data directory: station keys, archive, certificates")->capture_default_str();
    cli.add_option("--operator", o.operator_id, "operator id recorded in certificates");
    cli.add_option("--units", o.units, "each nest stops after this many units (0: run until SIGTERM)")->check(CLI::Range(0, 1000000));
    o.listen = default_listen();
    cli.add_option("--listen", o.listen, "address and port of the HTTP API and operator page (0.0.0.0:8420 for the line network; off: none)")
        ->capture_default_str();
    cli.add_option("--tls-cert", o.tls_cert, "PEM certificate chain: the API and page over HTTPS and WSS (with --tls-key)");
    cli.add_option("--tls-key", o.tls_key, "PEM private key of --tls-cert");
    cli.add_option("--page", o.page, "directory of the operator page's files (default: the installed share/rig/page)");
    cli.add_option("--factory", o.factory,
                   "the factory archive to forward every certificate and checkpoint to: postgresql://USER@HOST:PORT/DB (default: the jig "
                   "files' station.factory; a password from ~/.pgpass or PGPASSWORD)");
    cli.add_option("--factory-drain", o.factory_drain, "seconds rigd waits at exit for the factory archive to acknowledge what is pending")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 3600.0));
    cli.add_option("--factory-reply-timeout", o.factory_reply_timeout,
                   "seconds a statement sent to the factory archive may wait for its reply before the connection is dropped and made anew")
        ->capture_default_str()
        ->check(CLI::Range(1, 3600));
    cli.add_option("--nice", o.nice, "scheduling priority of rigd's threads, -20..19 (0: leave as started)")
        ->capture_default_str()
        ->check(CLI::Range(-20, 19));
    // Bad arguments: one line naming the argument, exit 2 (CLI11's own codes are 100+).
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return cli.exit(e);
        std::fprintf(stderr, "rigd: %s (see --help)\n", e.what());
        return 2;
    }

    // Everything is validated before anything is written.
    if (auto why = reports::id_problem(o.operator_id)) return fatal("--operator: operator id " + *why);
    if (o.listen != "off")
        if (auto l = app::parse_listen(o.listen); !l) return fatal(l.error().message);
    if (o.listen != "off") {
        api::ServerOptions tls;
        tls.tls_cert = o.tls_cert;
        tls.tls_key = o.tls_key;
        if (auto t = api::check_tls(tls); !t) return fatal(t.error().message);
    }
    if (!o.variant.empty())
        if (auto why = reports::id_problem(o.variant)) return fatal("--variant: variant id " + *why);
    auto loaded = load_nests(o, argv[0]);
    if (!loaded) return fatal(loaded.error().message);
    auto& nests = *loaded;
    auto factory = factory_url(o, nests);
    if (!factory) return fatal(factory.error().message);

    const app::DataPaths paths{o.data_dir};
    if (auto r = reports::make_directory(paths.root, 0750); !r) return fatal(r.error().message);
    auto lock = io::PidLock::acquire(paths.lock(), "data directory " + paths.root.string());
    if (!lock) return fatal(lock.error().message);
    auto shared = archive::Archive::open(paths.archive());
    if (!shared) return fatal(shared.error().message);
    auto archive = std::make_shared<archive::Archive>(std::move(*shared));
    for (std::size_t i = 0; i < nests.size(); ++i) {
        auto& n = nests[i];
        const auto file = app::key_file(paths, n.jig.station_id, i == 0);
        auto key = app::station_key(file, paths, n.jig.station_id);
        if (!key) return fatal(key.error().message);
        auto trust = app::bound_trust(paths, file, *key, n.jig.station_id);
        if (!trust) return fatal(trust.error().message);
        auto ledger = archive::Ledger::open(archive, {paths.archive(), paths.certificates(), paths.checkpoints()}, n.jig.station_id,
                                            std::move(*key), std::move(*trust), [id = n.jig.station_id](const std::string& line) {
                                                fmt::print(stderr, "station={} {}\n", id, reports::printable(line));
                                            });
        if (!ledger) return fatal(ledger.error().message);
        n.ledger.emplace(std::move(*ledger));
    }

    // Destroyed in reverse: the stations, then the writer (finishing its queue, posting into a
    // live io_context), then the io_context its ports were bound to.
    set_priority(o.nice);  // before any thread starts (the writer's are the first)
    app::keep_freed_memory();
    asio::io_context io;
    archive::Writer writer;
    // Store-and-forward to the factory archive on a thread of its own, after the writer's commits:
    // no verdict waits for it. Destroyed before the writer's archive is closed.
    std::unique_ptr<factory::Forwarder> forwarder;
    if (!factory->empty()) {
        factory::ForwarderOptions fo;
        fo.url = *factory;
        fo.archive = paths.archive();
        fo.reply_timeout = std::chrono::seconds(o.factory_reply_timeout);
        for (const auto& n : nests) fo.stations.push_back(n.jig.station_id);
        forwarder = std::make_unique<factory::Forwarder>(fo, [](const std::string& line) { fmt::print(stderr, "rigd: {}\n", reports::printable(line)); });
        fmt::print(stderr, "rigd: forwarding to the factory archive {}\n", factory::pg::redact(*factory));
    }
    devices::ScpiLinkPool instruments;  // an instrument named by several nests is one link, locked per use
    // The HTTP API and operator page, before the stations: they send it their events.
    auto api = app::RigdApi::start(io, {o.listen, app::page_dir(o.page, argv[0]), std::string(api::openapi_document()), o.tls_cert, o.tls_key}, nests, paths);
    if (!api) return fatal(api.error().message);
    for (auto& n : nests) {
        n.station = std::make_unique<station::Station>(
            station::Config{n.jig, n.plan, o.operator_id, RIG_VERSION, o.units, nests.size() > 1, &instruments, *api ? (*api)->sink() : nullptr},
            *n.ledger, writer);
        fmt::print(stderr, "rigd: station {} variant {} plan sha256 {} data {}\n", n.jig.station_id, n.plan.id, n.plan.sha256.substr(0, 16),
                   paths.root.string());
    }

    app::ServiceNotifier service(io, [&nests] { return service_status(nests); });
    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code& e, int sig) {
        if (e) return;
        const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
        fmt::print(stderr, "rigd: {} received, making {} safe\n", name, nests.size() == 1 ? "the station" : "every nest");
        service.stopping(std::string(name) + " received");
        for (auto& n : nests) n.station->shutdown(name);
    });
    // The local control socket: status, and a nest out of service and back without a restart.
    std::string control_error;
    auto control = app::ControlServer::open(io, paths.control(), [&nests](const std::string& request) { return control_reply(nests, request); },
                                            control_error);
    if (*api) fmt::print(stderr, "rigd: operator page {} (API {}api/v1, events {}api/v1/events, metrics {}metrics)\n", (*api)->url(),
                         (*api)->url(), (*api)->url(), (*api)->url());
    if (!control) fmt::print(stderr, "rigd: WARNING: no control socket: {}\n", control_error);
    else fmt::print(stderr, "rigd: control socket {}\n", paths.control().string());
    // The io thread watching itself: a tick late by over 100 ms is logged, with the host's steal.
    io::StallWatch stalls(io.get_executor(), std::chrono::milliseconds(100), std::chrono::milliseconds(100),
                          [](const std::string& line) { fmt::print(stderr, "rigd: {}\n", line); });
    // Each nest runs on its own: one whose jig fails or is lost stops alone, the others go on.
    std::size_t running = nests.size();
    int exit_code = 0;
    for (auto& n : nests) {
        asio::co_spawn(io, run_nest(n), [&](std::exception_ptr ep) {
            if (ep) {
                try {
                    std::rethrow_exception(ep);
                } catch (const std::exception& e) {
                    n.result.emplace(make_error(Errc::io_error, std::string("internal error: ") + e.what()));
                }
            }
            if (--running == 0) {
                stalls.stop();
                service.stop();
                signals.cancel();
                if (control) control->close();
                if (*api) (*api)->close();
            }
        });
    }
    service.ready();
    io.run();

    if (forwarder) {
        const auto grace = std::chrono::milliseconds(static_cast<long>(o.factory_drain * 1000));
        if (!forwarder->drain(grace)) {
            const auto st = forwarder->status();
            for (const auto& [id, s] : st.stations)
                if (s.acknowledged < s.local)
                    fmt::print(stderr, "rigd: factory archive: station {} has {} certificates not yet acknowledged (sequences {}..{}); they are sent "
                                       "after the next start{}\n",
                               id, s.local - s.acknowledged, s.acknowledged + 1, s.local,
                               st.last_error.empty() ? "" : " (" + reports::printable(st.last_error) + ")");
        }
        forwarder.reset();
    }
    const bool named = nests.size() > 1;
    for (const auto& n : nests) {
        if (!n.result || !*n.result) {
            const auto why = n.result ? n.result->error().message : std::string("did not finish");
            exit_code = fatal(named ? n.jig.station_id + ": " + why : why);
            continue;
        }
        print_totals(n, named);
        const auto& r = **n.result;
        if (r.aborted && exit_code == 0) exit_code = 3;
        if (!r.jig_lost.empty()) {
            fmt::print(stderr, "rigd: {}jig lost when rigd stopped: {}\n", named ? n.jig.station_id + ": " : "", reports::printable(r.jig_lost));
            exit_code = 2;
        }
        if (!r.exports_pending.empty()) {
            // Certified and durable in the archive, but the exported copies are incomplete: say
            // so loudly and exit non-zero; the next start re-exports them.
            fmt::print(stderr, "rigd: certificate files not exported (the archive holds them; rigd re-exports at next start): {}\n",
                       reports::printable(r.exports_pending));
            if (exit_code == 0 || exit_code == 3) exit_code = 4;
        }
    }
    return exit_code;
}
