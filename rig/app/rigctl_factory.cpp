#include "rig/app/rigctl_factory.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <fmt/format.h>
#include <thread>

#include "reports/text.hpp"
#include "rig/factory/forwarder.hpp"
#include "rig/factory/ingest.hpp"
#include "rig/factory/schema.hpp"
#include "rig/qa/qa.hpp"

namespace rig::app {
namespace json = boost::json;
using reports::printable;

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop(int) { g_stop = true; }

Result<factory::pg::Connection> connect(const std::string& url) {
    if (!factory::pg::is_url(url)) return make_error(Errc::invalid_argument, fmt::format("--archive {}: not a postgresql:// URL", url));
    return factory::pg::Connection::connect(url);
}

int migrate(const std::string& url) {
    auto c = connect(url);
    if (!c) return qa::fail(c.error());
    auto a = factory::migrate(*c);
    if (!a) return qa::fail(a.error());
    if (a->names.empty()) fmt::print("{}: schema at version {}, the latest: nothing to do\n", c->name(), a->to);
    else fmt::print("{}: schema version {} -> {}: applied {}\n", c->name(), a->from, a->to, fmt::join(a->names, "; "));
    return qa::exit_ok;
}

int db_status(const std::string& url) {
    auto c = connect(url);
    if (!c) return qa::fail(c.error());
    auto v = factory::schema_version(*c);
    if (!v) return qa::fail(v.error());
    std::vector<std::string> pending;
    for (const auto& m : factory::migrations())
        if (m.version > *v) pending.push_back(fmt::format("{} {}", m.version, m.name));
    fmt::print("{}: schema version {} of {}{}\n", c->name(), *v, factory::latest_version(),
               pending.empty() ? "" : fmt::format("; pending: {} (rigctl db migrate)", fmt::join(pending, "; ")));
    return pending.empty() ? qa::exit_ok : qa::exit_verification_failed;
}

void print_alarm(const factory::Alarm& a) {
    fmt::print(stderr, "rigctl: ALARM {}: {}\n", a.kind, printable(a.message));
}

// Verifies the inbox; with --follow, again whenever a station sends, until SIGTERM or SIGINT,
// reconnecting after a failure. The trust directory is read again before each pass: a station
// key enrolled while its certificates wait is trusted on the next.
int ingest(const std::string& url, const std::vector<std::string>& trust, const DataPaths& paths, bool follow, std::size_t batch) {
    std::signal(SIGTERM, on_stop);
    std::signal(SIGINT, on_stop);
    auto store = qa::load_trust(trust, paths.trust());  // a bad trust store is bad input: before any connection
    if (!store) return qa::fail(store.error().message);
    std::uint64_t refused = 0;
    int backoff_ms = 250;
    while (!g_stop) {
        auto c = connect(url);
        if (!c) {
            if (!follow) return qa::fail(c.error());
            fmt::print(stderr, "rigctl: {} (retrying in {} ms)\n", c.error().message, backoff_ms);
            std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
            backoff_ms = std::min(backoff_ms * 2, 30000);
            continue;
        }
        if (auto s = factory::require_schema(*c); !s) return qa::fail(s.error());
        factory::Ingest gate(*c, *store, [&](const factory::Alarm& a) { print_alarm(a); }, batch);
        auto locked = gate.lock(true);
        if (!locked) return qa::fail(locked.error());
        if (follow)
            if (auto l = gate.listen(); !l) return qa::fail(l.error());
        for (;;) {
            if (follow) {
                auto fresh = qa::load_trust(trust, paths.trust());
                if (fresh) *store = std::move(*fresh);
            }
            auto n = gate.drain();
            if (!n) {
                if (!follow) return qa::fail(n.error());
                fmt::print(stderr, "rigctl: ingest: {} (reconnecting)\n", n.error().message);
                break;
            }
            refused += n->refused;
            if (n->accepted + n->duplicates + n->refused > 0 || !follow)
                fmt::print("ingest: {} accepted, {} duplicates, {} refused (alarms), {} waiting for an earlier sequence\n", n->accepted, n->duplicates,
                           n->refused, n->waiting);
            if (!follow) return refused ? qa::exit_verification_failed : qa::exit_ok;
            backoff_ms = 250;
            // Woken by a station's insert; every 5 s anyway (a waiting row's predecessor, a new key).
            bool lost = false;
            int idle = 0;
            while (!g_stop) {
                auto w = gate.wait(1000);
                if (!w) {
                    fmt::print(stderr, "rigctl: ingest: {} (reconnecting)\n", w.error().message);
                    lost = true;
                    break;
                }
                if (*w) break;
                if (++idle == 5) break;
            }
            if (lost || g_stop) break;
        }
    }
    return refused ? qa::exit_verification_failed : qa::exit_ok;
}

// A station archive forwarded by hand (a station host without its rigd, an archive carried from
// a site that was cut off): the same store-and-forward as rigd --factory, until every certificate
// is acknowledged, or until SIGTERM with --follow.
int forward(const std::string& url, const std::string& from, const std::vector<std::string>& stations, bool follow, double timeout_s, std::size_t batch,
            int reply_timeout_s) {
    std::signal(SIGTERM, on_stop);
    std::signal(SIGINT, on_stop);
    if (!factory::pg::is_url(url)) return qa::fail(fmt::format("--archive {}: not a postgresql:// URL", url));
    if (stations.empty()) return qa::fail("factory forward: give --station ID (repeatable)");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(from, ec)) return qa::fail(from + ": no such archive");
    factory::ForwarderOptions fo;
    fo.url = url;
    fo.archive = from;
    fo.stations = stations;
    fo.batch = batch;
    fo.reply_timeout = std::chrono::seconds(reply_timeout_s);
    factory::Forwarder f(fo, [](const std::string& line) { fmt::print(stderr, "rigctl: {}\n", printable(line)); });
    const auto start = std::chrono::steady_clock::now();
    bool caught_up = false;
    while (!g_stop) {
        caught_up = f.drain(std::chrono::milliseconds(1000));
        if (caught_up && !follow) break;
        if (timeout_s > 0 && std::chrono::steady_clock::now() - start > std::chrono::duration<double>(timeout_s)) break;
    }
    const auto st = f.status();
    for (const auto& [id, s] : st.stations)
        fmt::print("station {}: {} committed, {} acknowledged by the factory archive\n", id, s.local, s.acknowledged);
    fmt::print("forward: {} certificates sent in {} batches, {} failures\n", st.sent, st.batches, st.failures);
    if (!caught_up) return qa::fail(st.last_error.empty() ? "forward: not every certificate was acknowledged" : st.last_error, qa::exit_io_error);
    return qa::exit_ok;
}

int alarms(const std::string& url, bool as_json) {
    auto c = connect(url);
    if (!c) return qa::fail(c.error());
    if (auto s = factory::require_schema(*c); !s) return qa::fail(s.error());
    auto rows = c->exec("SELECT id, to_char(raised_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), times, station, sequence, sha256, kind, message,"
                        " received_by FROM rig.alarms ORDER BY id");
    if (!rows) return qa::fail(rows.error());
    json::array out;
    for (int i = 0; i < rows->size(); ++i) {
        if (as_json) {
            out.push_back(json::object{{"id", rows->integer(i, 0)},           {"raised_at", rows->text(i, 1)}, {"times", rows->integer(i, 2)},
                                       {"station", rows->text(i, 3)},         {"sequence", rows->integer(i, 4)}, {"sha256", rows->text(i, 5)},
                                       {"kind", rows->text(i, 6)},            {"message", rows->text(i, 7)}, {"received_by", rows->text(i, 8)}});
        } else {
            fmt::print("{:>5}  {} {:<12} station={} seq={} x{} from {}: {}\n", rows->text(i, 0), rows->text(i, 1), rows->text(i, 6), printable(rows->text(i, 3)),
                       rows->text(i, 4), rows->text(i, 2), printable(rows->text(i, 8)), printable(rows->text(i, 7)));
        }
    }
    if (as_json) fmt::print("{}\n", json::serialize(json::object{{"alarms", std::move(out)}}));
    else fmt::print("{} alarm{}\n", rows->size(), rows->size() == 1 ? "" : "s");
    return qa::exit_ok;
}

// Per station: certificates stored, the last sequence, and the newest checkpoint's sequence.
int status(const std::string& url, bool as_json) {
    auto c = connect(url);
    if (!c) return qa::fail(c.error());
    if (auto s = factory::require_schema(*c); !s) return qa::fail(s.error());
    auto rows = c->exec("SELECT s.station, s.n, s.head, coalesce(k.seq, 0) FROM (SELECT station, count(*) AS n, max(sequence) AS head FROM rig.certificates"
                        " GROUP BY station) s LEFT JOIN (SELECT station, max(sequence) AS seq FROM rig.checkpoints GROUP BY station) k USING (station)"
                        " ORDER BY s.station");
    if (!rows) return qa::fail(rows.error());
    json::array out;
    for (int i = 0; i < rows->size(); ++i) {
        if (as_json)
            out.push_back(json::object{{"station", rows->text(i, 0)}, {"certificates", rows->integer(i, 1)}, {"head", rows->integer(i, 2)},
                                       {"checkpoint", rows->integer(i, 3)}});
        else
            fmt::print("station {}: {} certificates, head sequence {}, checkpoint at {}\n", printable(rows->text(i, 0)), rows->text(i, 1), rows->text(i, 2),
                       rows->text(i, 3));
    }
    if (as_json) fmt::print("{}\n", json::serialize(json::object{{"stations", std::move(out)}}));
    return qa::exit_ok;
}

}  // namespace

FactoryCommands::FactoryCommands(CLI::App& cli) {
    db_ = cli.add_subcommand("db", "the factory archive's PostgreSQL schema: versioned migrations");
    db_->require_subcommand(1);
    migrate_ = db_->add_subcommand("migrate", "apply every pending migration (tables, roles rig_station, rig_ingest, rig_qa); needs CREATEROLE");
    db_status_ = db_->add_subcommand("status", "the schema's version and pending migrations (exit 1 when some are pending)");
    factory_ = cli.add_subcommand("factory", "the factory archive: verify what stations forward, and its alarms");
    factory_->require_subcommand(1);
    ingest_ = factory_->add_subcommand("ingest", "verify the inbox into certificates: signature, key binding, chain link; refuse forks and unknown keys "
                                                 "as alarms (exit 1 when any was refused)");
    ingest_->add_flag("--follow", follow_, "keep going: verify whatever stations send, until SIGTERM");
    ingest_->add_option("--batch", batch_, "inbox rows verified per transaction")->check(CLI::Range(1, 100000))->capture_default_str();
    ingest_->add_option("--trust", trust_, "trusted key bindings or root keys: file or directory (default: DATA/trust); repeatable")->allow_extra_args(false);
    forward_ = factory_->add_subcommand("forward", "send a station archive's certificates and checkpoints to the factory archive, as rigd --factory "
                                                   "does, until all are acknowledged");
    forward_->add_option("--from", from_, "the station's SQLite archive (default: DATA/archive.sqlite)");
    forward_->add_option("--station", stations_, "a station whose chain is sent; repeatable")->required();
    forward_->add_flag("--follow", follow_, "keep going: send what the station commits, until SIGTERM");
    forward_->add_option("--batch", forward_batch_, "certificates per statement and transaction")->check(CLI::Range(1, 100000))->capture_default_str();
    forward_->add_option("--timeout", timeout_s_, "give up after this many seconds (0: never)")->capture_default_str();
    forward_->add_option("--reply-timeout", reply_timeout_s_, "seconds a statement may wait for its reply before the connection is dropped and made anew")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    alarms_ = factory_->add_subcommand("alarms", "what ingest refused: forks, unknown keys, bad signatures, broken links");
    status_ = factory_->add_subcommand("status", "per station: certificates stored, head sequence, newest checkpoint");
    for (auto* cmd : {migrate_, db_status_, ingest_, forward_, alarms_, status_})
        cmd->add_option("--archive", url_, "the factory archive: postgresql://USER@HOST:PORT/DB (a password from ~/.pgpass or PGPASSWORD)")->required();
    for (auto* cmd : {alarms_, status_}) cmd->add_flag("--json", json_, "answer in JSON");
}

bool FactoryCommands::parsed() const { return db_->parsed() || factory_->parsed(); }

int FactoryCommands::run(const DataPaths& paths) {
    if (migrate_->parsed()) return migrate(url_);
    if (db_status_->parsed()) return db_status(url_);
    if (ingest_->parsed()) return ingest(url_, trust_, paths, follow_, batch_);
    if (forward_->parsed()) return forward(url_, from_.empty() ? paths.archive().string() : from_, stations_, follow_, timeout_s_, forward_batch_, reply_timeout_s_);
    if (alarms_->parsed()) return alarms(url_, json_);
    return status(url_, json_);
}

}  // namespace rig::app
