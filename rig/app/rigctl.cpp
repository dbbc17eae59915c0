// rigctl: keys, certificate verification and archive queries for QA. Every read of the archive
// is read-only, and everything shown is checked against its signed payload first.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reports/text.hpp"
#include "reports/trust.hpp"
#include "rig/api/tokens.hpp"
#include "rig/app/campaign.hpp"
#include "rig/app/rigctl_factory.hpp"
#include "rig/app/control.hpp"
#include "rig/app/paths.hpp"
#include "rig/archive/archive.hpp"
#include "rig/factory/pg.hpp"
#include "rig/qa/qa.hpp"

using namespace rig;
namespace fs = std::filesystem;
using reports::printable;

namespace {

int fail(const std::string& message) { return qa::fail(message, qa::exit_bad_input); }

// The selection options list, export and stats share.
void add_filter(CLI::App* cmd, archive::Filter& f) {
    cmd->add_option("--serial", f.serial, "only this unit");
    cmd->add_option("--lot", f.lot, "only this lot");
    cmd->add_option("--variant", f.variant, "only this variant");
    cmd->add_option("--verdict", f.verdict, "pass, fail or error")->check(CLI::IsMember({"pass", "fail", "error"}));
    cmd->add_option("--station", f.station, "only this station (nest)");
    const auto iso = CLI::Validator([](std::string& t) { return reports::time_prefix_problem(t).value_or(""); }, "ISO-TIME");
    cmd->add_option("--since", f.since, "created at or after this ISO date/time (e.g. 2026-11-01)")->check(iso);
    cmd->add_option("--until", f.until, "created before this ISO date/time")->check(iso);
}

int token_command(const fs::path& file, bool create, bool list_all, const std::string& name, const std::string& role,
                  const std::vector<std::string>& nests, const std::string& expires) {
    if (create) {
        auto made = api::create_token(file, name, *api::role_from_string(role), nests, expires);
        if (!made) return fail(made.error().message);
        fmt::print("token {} ({}{}{}) created; it is shown this once, keep it safe:\n{}\n", name, role,
                   nests.empty() ? "" : ", nests " + fmt::format("{}", fmt::join(nests, " ")), expires.empty() ? "" : ", expires " + made->token.expires_at,
                   made->secret);
        return 0;
    }
    if (list_all) {
        auto tokens = api::load_tokens(file);
        if (!tokens) return fail(tokens.error().message);
        for (const auto& t : *tokens)
            fmt::print("{:<20} {:<8} nests={} created={} expires={} {}\n", t.name, api::to_string(t.role), t.nests.empty() ? "-" : fmt::format("{}", fmt::join(t.nests, ",")),
                       t.created_at, t.expires_at.empty() ? "never" : t.expires_at, t.revoked_at.empty() ? "active" : "REVOKED " + t.revoked_at);
        fmt::print("{} token{} in {}\n", tokens->size(), tokens->size() == 1 ? "" : "s", file.string());
        return 0;
    }
    auto t = api::revoke_token(file, name);
    if (!t) return fail(t.error().message);
    fmt::print("token {} ({}) revoked at {}\n", t->name, api::to_string(t->role), t->revoked_at);
    return 0;
}

// Every option of every subcommand, filled in by CLI11.
struct Options {
    std::string data_dir = app::default_data_dir().string();
    std::vector<std::string> trust;
    std::string archive;  // list/show/export/stats: default DATA/archive.sqlite
    std::string station_id, root_name, root_dir = ".";
    qa::VerifyOptions verify;
    qa::ListOptions list;
    qa::ShowOptions show;
    qa::ExportOptions exp;
    qa::StatsOptions stats;
    std::string export_key, export_output;
    std::vector<std::string> endorse_bindings;
    std::string endorse_key;
    app::CampaignOptions camp;
    std::string service_station, service_state, service_reason;
    std::string token_name, token_role, token_expires;
    std::vector<std::string> token_nests;
};

void add_trust(CLI::App* cmd, Options& o) {
    cmd->add_option("--trust", o.trust, "trusted key bindings or root keys (NAME.root.pub): file or directory (default: DATA/trust); repeatable")
        ->allow_extra_args(false);
}

struct QaCommands {
    CLI::App *keygen, *endorse, *verify, *list, *show, *exp, *stats;
};

QaCommands add_qa_commands(CLI::App& cli, Options& o) {
    QaCommands c{};
    c.keygen = cli.add_subcommand("keygen", "generate the station signing key (refuses to overwrite; retires the station's previous key), or a root (QA) key");
    auto* station = c.keygen->add_option("--station", o.station_id, "station id the key signs for");
    auto* root = c.keygen->add_option("--root", o.root_name, "make a root key NAME.root.key/.pub instead: it endorses station keys for bundles");
    station->excludes(root);
    c.keygen->add_option("--out", o.root_dir, "--root: the directory for the root key files")->capture_default_str();

    c.endorse = cli.add_subcommand("endorse", "sign station key bindings with a root key, so bundles verify with the root's public key alone");
    c.endorse->add_option("--key", o.endorse_key, "the root's secret key (NAME.root.key)")->required();
    c.endorse->add_option("bindings", o.endorse_bindings, "binding files (default: every one in DATA/trust)");

    c.verify = cli.add_subcommand("verify", "verify certificate files, an export bundle, or the whole archive");
    c.verify->add_option("files", o.verify.files, "certificate files (.dsse.json), or one bundle (.tar, .tar.gz, .tgz, .tar.xz, .tar.zst)");
    add_trust(c.verify, o);
    c.verify->add_option("--archive", o.verify.archive,
                         "verify every certificate, every column, the hash chain and its checkpoints of an archive: a file, or postgresql://...");
    c.verify->add_option("--checkpoint", o.verify.checkpoints, "a signed checkpoint held outside the station; the archive must reach it; repeatable")
        ->allow_extra_args(false);
    c.verify->add_flag("--json", o.verify.json, "the report as JSON");
    c.verify->add_flag("--brief", o.verify.brief, "list only the certificates that fail, the problems and the summary");

    c.list = cli.add_subcommand("list", "list certificates in the archive, streamed from its index");
    add_filter(c.list, o.list.filter);
    c.list->add_option("--limit", o.list.filter.limit, "at most this many rows")->check(CLI::Range(1, 1 << 30));
    c.list->add_option("--offset", o.list.filter.offset, "skip this many rows first")->check(CLI::Range(0, 1 << 30));
    c.list->add_flag("--newest-first", o.list.filter.newest_first, "newest rows first");
    c.list->add_flag("--verify", o.list.verify, "read and verify each row's signed envelope (slower); exit 1 if any is not valid");
    c.list->add_flag("--json", o.list.json, "rows as JSON");
    add_trust(c.list, o);

    c.show = cli.add_subcommand("show", "show a unit's certificates, verified");
    c.show->add_option("serial", o.show.serial, "unit serial")->required();
    add_trust(c.show, o);
    c.show->add_flag("--latest", o.show.latest, "only the unit's most recent certificate");
    auto* json = c.show->add_flag("--json", o.show.json, "the certificates as JSON (the signed payloads, with their verification)");
    auto* html = c.show->add_flag("--html", o.show.html, "one self-contained HTML page (SVG charts, prints on A4)");
    json->excludes(html);
    c.show->add_option("-o,--output", o.show.output, "--html: write the page to this file");

    c.exp = cli.add_subcommand("export", "write a bundle of certificates that verifies offline (rigctl verify BUNDLE)");
    add_filter(c.exp, o.exp.filter);
    c.exp->add_option("-o,--output", o.export_output, "the bundle: .tar, .tar.gz, .tgz, .tar.xz or .tar.zst")->required();
    c.exp->add_option("--key", o.export_key, "the key that signs the manifest: a root (QA) key NAME.root.key (default: DATA/station.key)");
    c.exp->add_flag("--json", o.exp.json, "the summary as JSON");
    add_trust(c.exp, o);
    c.stats = cli.add_subcommand("stats", "yield, first-pass yield, failure Pareto, capability (Cp/Cpk) and run-rule alarms over a selection");
    add_filter(c.stats, o.stats.filter);
    c.stats->add_flag("--json", o.stats.json, "as JSON");
    c.stats->add_option("--html", o.stats.html, "write one self-contained HTML page with SVG charts to this file");
    c.stats->add_option("--points", o.stats.points, "each control chart shows its series' last N points (mean, sigma and Cpk use all)")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{2}, std::size_t{100000}));
    add_trust(c.stats, o);
    for (auto* cmd : {c.list, c.show, c.exp, c.stats})
        cmd->add_option("--archive", o.archive, "the SQLite archive (default: DATA/archive.sqlite), or the factory archive: postgresql://...");
    return c;
}

void add_campaign(CLI::App& cli, Options& o, CLI::App*& campaign) {
    campaign = cli.add_subcommand("campaign", "run a simulated population through a simulated line and print its detection matrix");
    auto& camp = o.camp;
    campaign->add_option("population", camp.population, "population file (TOML)")->required();
    campaign->add_option("--nests", camp.nests, "simulated nests, all in one rigd")->capture_default_str()->check(CLI::Range(1, 128));
    campaign->add_option("--units", camp.units, "units to test (default: the population's own)")->check(CLI::Range(1, 1000000));
    campaign->add_option("--seed", camp.seed, "seed of the random defect mix and the noise")->capture_default_str();
    campaign->add_option("--junit", camp.junit, "write JUnit XML here");
    campaign->add_option("--json", camp.json, "write the results as JSON here");
    campaign->add_option("--variants", camp.variants, "directory of variant plans for rigd");
    campaign->add_option("--run-dir", camp.run_dir, "run directory (default: a new one under $TMPDIR)");
    campaign->add_option("--stall-timeout", camp.stall_timeout_s, "stop and fail when rigd shows no verdict for this many seconds")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));
}

struct StationCommands {
    CLI::App *status, *service, *token, *token_create, *token_list, *token_revoke;
};

StationCommands add_station_commands(CLI::App& cli, Options& o) {
    StationCommands c{};
    c.status = cli.add_subcommand("status", "the nests of the rigd running on DATA: state and totals (its control socket)");
    c.service = cli.add_subcommand("service", "take a nest out of service (it finishes its unit, then takes none) or back in");
    c.service->add_option("station", o.service_station, "the nest's station id")->required();
    c.service->add_option("state", o.service_state, "out or in")->required()->check(CLI::IsMember({"out", "in"}));
    c.service->add_option("--reason", o.service_reason, "why (logged, shown to the operator); required for out");

    c.token = cli.add_subcommand("token", "API tokens of the rigd on DATA: create (the secret is printed once), list, revoke");
    c.token->require_subcommand(1);
    c.token_create = c.token->add_subcommand("create", "make a token and print its secret (only its sha256 is kept)");
    c.token_create->add_option("--name", o.token_name, "who or what uses it (e.g. line1-bench3, supervisor-anna)")->required();
    c.token_create->add_option("--role", o.token_role, "operator, engineer, qa or admin")
        ->required()
        ->check(CLI::IsMember({"operator", "engineer", "qa", "admin"}));
    c.token_create->add_option("--nest", o.token_nests, "a nest an operator token may work; repeatable (operator tokens only)")->allow_extra_args(false);
    c.token_create->add_option("--expires", o.token_expires, "expiry: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (default: never)");
    c.token_list = c.token->add_subcommand("list", "every token: name, role, nests, dates (never a secret)");
    c.token_revoke = c.token->add_subcommand("revoke", "refuse a token from now on (rigd reads the change at once)");
    c.token_revoke->add_option("name", o.token_name, "the token's name")->required();
    return c;
}

int station_command(const StationCommands& c, const Options& o, const app::DataPaths& paths) {
    if (*c.token)
        return token_command(paths.tokens(), c.token_create->parsed(), c.token_list->parsed(), o.token_name, o.token_role, o.token_nests, o.token_expires);
    if (*c.service && o.service_state == "out" && o.service_reason.empty()) {
        std::fprintf(stderr, "rigctl: service %s out: --reason is required (see --help)\n", o.service_station.c_str());
        return 2;
    }
    const std::string request = *c.status                  ? std::string("status")
                                : o.service_state == "out" ? "out-of-service " + o.service_station + " " + o.service_reason
                                                           : "in-service " + o.service_station;
    std::string reply;
    if (!app::control_request(paths.control(), request, reply)) return fail(reply);
    if (reply.rfind("error: ", 0) == 0) return fail(reply.substr(7, reply.find_last_not_of('\n') - 6));
    fmt::print("{}", reply);
    return 0;
}

int keygen(const Options& o, const app::DataPaths& paths) {
    if (!o.root_name.empty()) return qa::make_root_key(o.root_dir, o.root_name);
    if (o.station_id.empty()) return fail("keygen: give --station ID (the station's key) or --root NAME (a QA root key)");
    auto key = reports::create_station_key(paths.key(), paths.trust(), o.station_id, reports::utc_now());
    if (!key) return fail(key.error().message);
    fmt::print("generated {} for station {}\n  secret {}\n  public {}\n", key->public_key().keyid(), o.station_id, paths.key().string(),
               (paths.trust() / reports::binding_file_name(o.station_id, key->public_key())).string());
    return 0;
}

int qa_command(const QaCommands& c, Options& o, const app::DataPaths& paths) {
    if (*c.keygen) return keygen(o, paths);
    if (*c.endorse) return qa::endorse(o.endorse_key, o.endorse_bindings, paths.trust());
    // The archive is named before the trust store is read: a typo in --data names the archive.
    const std::string archive = o.archive.empty() ? paths.archive().string() : o.archive;
    if (!*c.verify && !factory::pg::is_url(archive)) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(archive, ec)) return fail(archive + ": no such archive");
    }
    auto store = qa::load_trust(o.trust, paths.trust());
    if (!store) return fail(store.error().message);
    if (*c.verify) {
        if (o.verify.files.empty() && o.verify.archive.empty()) return fail("verify: give certificate files, a bundle, or --archive FILE");
        o.verify.data = paths.root;
        return qa::verify(*store, o.verify);
    }
    const qa::Source src{archive, std::move(*store)};
    if (*c.list) return qa::list(src, o.list);
    if (*c.show) return qa::show(src, o.show);
    if (*c.stats) return qa::stats(src, o.stats);
    const auto& f = o.exp.filter;
    if (f.lot.empty() && f.serial.empty() && f.variant.empty() && f.since.empty())
        return fail("export: select with --lot, --serial, --variant or --since (the whole archive is rigctl verify --archive's)");
    o.exp.output = o.export_output;
    o.exp.key = o.export_key.empty() ? paths.key() : std::filesystem::path(o.export_key);
    o.exp.trust_dir = paths.trust();
    o.exp.checkpoints = paths.checkpoints();
    o.exp.created_by = "rigctl " RIG_VERSION;
    return qa::export_bundle(src, o.exp);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"rigctl: rig station keys, certificates and archive"};
    cli.set_version_flag("--version", "rigctl " RIG_VERSION);
    cli.footer(qa::kExitCodesHelp);
    cli.require_subcommand(1);
    Options o;
    cli.add_option("--data", o.data_dir, "data directory")->capture_default_str();
    const auto qa_cmds = add_qa_commands(cli, o);
    CLI::App* campaign = nullptr;
    add_campaign(cli, o, campaign);
    const auto station_cmds = add_station_commands(cli, o);
    app::FactoryCommands factory_cmds(cli);
    // Bad arguments: one line naming the argument, exit 2 (CLI11's own codes are 100+).
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return cli.exit(e);
        std::fprintf(stderr, "rigctl: %s (see --help)\n", e.what());
        return 2;
    }
    const app::DataPaths paths{o.data_dir};
    if (*campaign) return app::run_campaign(o.camp, argv[0]);
    if (factory_cmds.parsed()) return factory_cmds.run(paths);
    if (*station_cmds.status || *station_cmds.service || *station_cmds.token) return station_command(station_cmds, o, paths);
    return qa_command(qa_cmds, o, paths);
}
