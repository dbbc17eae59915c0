// rigctl: keys, certificate verification and archive queries for QA. Every read of the archive
// is read-only, and everything shown is checked against its signed payload first.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <regex>
#include <set>

#include "reports/certificate.hpp"
#include "reports/checkpoint.hpp"
#include "reports/dsse.hpp"
#include "reports/files.hpp"
#include "reports/text.hpp"
#include "reports/trust.hpp"
#include "reports/verify.hpp"
#include "rig/api/tokens.hpp"
#include "rig/archive/verified.hpp"
#include "rig/app/campaign.hpp"
#include "rig/app/control.hpp"
#include "rig/app/paths.hpp"
#include "rig/archive/archive.hpp"
#include "rig/archive/ledger.hpp"

using namespace rig;
namespace fs = std::filesystem;
using reports::printable;

namespace {

int fail(const std::string& message) {
    fmt::print(stderr, "rigctl: {}\n", printable(message));
    return 2;
}

Result<reports::TrustStore> trust_from(const std::vector<std::string>& trust, const app::DataPaths& paths) {
    reports::TrustStore store;
    std::vector<std::string> sources = trust;
    if (sources.empty()) sources.push_back(paths.trust().string());
    for (const auto& t : sources) {
        std::error_code ec;
        auto r = fs::is_directory(t, ec) ? store.add_directory(t) : store.add_file(t);
        if (!r) return r.error();
    }
    if (store.empty()) return make_error(Errc::not_found, fmt::format("no trusted keys in {}", fmt::join(sources, ", ")));
    return store;
}

std::string row_name(const fs::path& archive, const archive::Record& r) {
    return fmt::format("{}#{} ({})", archive.string(), r.id, printable(r.serial));
}

// Exported copies (DATA/certificates) must match the archive one for one: a deleted, swapped or
// extra file is a problem named by its path.
void check_exports(const std::vector<archive::Record>& rows, const reports::VerifyReport& report, const fs::path& dir,
                   std::vector<std::string>& problems) {
    std::set<std::string> expected;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& item = report.items[i];
        if (!item.ok) continue;
        const auto name = archive::export_file_name(item.serial, item.station, item.sequence);
        expected.insert(name);
        auto text = reports::read_file(dir / name);
        if (!text) problems.push_back(fmt::format("{}: missing (the export of archive row #{})", (dir / name).string(), rows[i].id));
        else if (*text != rows[i].envelope + "\n")
            problems.push_back(fmt::format("{}: differs from archive row #{} (swapped or edited)", (dir / name).string(), rows[i].id));
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".json" && !expected.count(e.path().filename().string()))
            problems.push_back(fmt::format("{}: no archive row has this certificate", e.path().string()));
}

// A file named like an export (...-000042.dsse.json) must hold the certificate its name says.
void check_file_names(const reports::VerifyReport& report, std::vector<std::string>& problems) {
    static const std::regex exported(R"(.*-[0-9]{6,}\.dsse\.json)");
    for (const auto& item : report.items) {
        const auto base = fs::path(item.name).filename().string();
        if (!item.ok || !std::regex_match(base, exported)) continue;
        const auto want = archive::export_file_name(item.serial, item.station, item.sequence);
        if (base != want)
            problems.push_back(fmt::format("{}: holds the certificate of {} station {} #{} (an export named {})", item.name, item.serial,
                                           item.station, item.sequence, want));
    }
}

int print_report(const reports::VerifyReport& report, const std::vector<std::string>& file_problems = {}) {
    int bad = 0;
    for (const auto& i : report.items) {
        if (i.ok) fmt::print("OK    {}  serial={} verdict={} station={} seq={} sha256={}\n", printable(i.name), i.serial, i.verdict, i.station, i.sequence, i.sha256.substr(0, 16));
        else {
            ++bad;
            fmt::print("BAD   {}  {}\n", printable(i.name), printable(i.problem));
        }
    }
    for (const auto& p : report.column_problems) fmt::print("ROW   {}\n", printable(p));
    for (const auto& p : report.checkpoint_problems) fmt::print("CHECKPOINT {}\n", printable(p));
    for (const auto& p : report.chain_problems) fmt::print("CHAIN {}\n", printable(p));
    for (const auto& p : file_problems) fmt::print("FILE  {}\n", printable(p));
    for (const auto& n : report.notes) fmt::print("note: {}\n", printable(n));
    const auto total = report.items.size();
    const auto others = report.column_problems.size() + report.checkpoint_problems.size() + report.chain_problems.size() + file_problems.size();
    const bool ok = report.ok() && file_problems.empty();
    if (ok) fmt::print("verified {} certificate{}\n", total, total == 1 ? "" : "s");
    else fmt::print("FAILED: {} of {} certificates bad, {} other problem{}\n", bad, total, others, others == 1 ? "" : "s");
    return ok ? 0 : 1;
}

// The archive's own checkpoints, the data directory's checkpoint files, and any given by QA.
Result<std::vector<reports::CheckpointItem>> gather_checkpoints(archive::Archive& a, const fs::path& archive_file,
                                                                 const app::DataPaths& paths, const std::vector<std::string>& given) {
    std::vector<reports::CheckpointItem> out;
    auto stored = a.checkpoints();
    if (!stored) return stored.error();
    for (auto& e : *stored) out.push_back({archive_file.string() + " checkpoints table", std::move(e)});
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(paths.checkpoints(), ec)) {
        if (e.path().extension() != ".json") continue;
        auto text = reports::read_file(e.path(), 1 << 20);
        if (!text) return text.error();
        out.push_back({e.path().string(), *text});
    }
    for (const auto& f : given) {
        auto text = reports::read_file(f, 1 << 20);
        if (!text) return text.error();
        out.push_back({f, *text});
    }
    return out;
}

int verify_archive(const std::string& archive_file, const std::vector<std::string>& checkpoints, const reports::TrustStore& trust,
                   const app::DataPaths& paths) {
    auto a = archive::Archive::open_read_only(archive_file);
    if (!a) return fail(a.error().message);
    auto rows = a->all();
    if (!rows) return fail(rows.error().message);
    std::vector<reports::Item> items;
    for (const auto& r : *rows) items.push_back({row_name(archive_file, r), r.envelope, archive::columns_of(r)});
    auto cps = gather_checkpoints(*a, archive_file, paths, checkpoints);
    if (!cps) return fail(cps.error().message);
    auto report = reports::verify(items, trust, true, *cps);
    std::vector<std::string> file_problems;
    std::error_code ec;
    if (fs::equivalent(archive_file, paths.archive(), ec)) check_exports(*rows, report, paths.certificates(), file_problems);
    return print_report(report, file_problems);
}

int verify_files(const std::vector<std::string>& files, const reports::TrustStore& trust) {
    std::vector<reports::Item> items;
    for (const auto& f : files) {
        auto text = reports::read_file(f);
        if (!text) return fail(text.error().message);
        items.push_back({f, *text, std::nullopt});
    }
    auto report = reports::verify(items, trust, false);
    std::vector<std::string> file_problems;
    check_file_names(report, file_problems);
    return print_report(report, file_problems);
}

int list(archive::Archive& a, const archive::Filter& filter, const reports::TrustStore& trust) {
    auto rows = a.query(filter);
    if (!rows) return fail(rows.error().message);
    int bad = 0;
    for (const auto& r : *rows) {
        if (auto v = archive::verify_record(r, trust); !v) {
            ++bad;
            fmt::print("{:>5}  NOT VALID: {}\n", r.id, printable(v.error().message));
            continue;
        }
        fmt::print("{:>5}  {:<14} {:<8} {:<5} {} station={} seq={} sha256={}\n", r.id, r.serial, r.variant, r.verdict, r.created_at, r.station,
                   r.sequence, r.sha256.substr(0, 16));
    }
    fmt::print("{} certificate{}{}\n", rows->size(), rows->size() == 1 ? "" : "s", bad ? fmt::format(", {} NOT VALID", bad) : "");
    return bad ? 1 : 0;
}

void print_certificate(const reports::VerifiedCertificate& v) {
    const auto& c = v.certificate;
    fmt::print("{} {} {} — {} (signed by {}, station {} #{})\n", c.unit.serial, c.unit.variant, c.unit.lot, reports::to_string(c.verdict), v.keyid,
               c.station.id, c.station.sequence);
    for (const auto& i : c.station.instruments)
        fmt::print("  instrument {} ({}): {} {} serial {} firmware {}, calibration due {}\n", printable(i.name), printable(i.type), printable(i.vendor),
                   printable(i.model), printable(i.serial), printable(i.firmware), printable(i.calibration_due));
    fmt::print("  dut: {} board {} uid {}\n", printable(c.dut.firmware), printable(c.dut.board), printable(c.dut.uid));
    for (const auto& p : c.dut.parts)
        fmt::print("    part {}: {} serial {} firmware {} hardware {}\n", printable(p.position), printable(p.name), printable(p.serial),
                   printable(p.firmware), printable(p.hardware));
    fmt::print("  plan: {} sha256 {}\n  time: {} .. {}\n", printable(c.plan.id), c.plan.sha256.substr(0, 16), c.started_at, c.finished_at);
    for (const auto& s : c.steps) {
        fmt::print("  {:<5} {:<20} {:<10} {:.2f}s {}\n", reports::to_string(s.verdict), printable(s.kind), printable(s.id), s.duration_s,
                   printable(s.message));
        for (const auto& m : s.measurements) {
            std::string value = m.text.empty() ? fmt::format("{:.4g} {}", m.value, m.unit) : m.text;
            fmt::print("        {:<4} {:<16} {:<24} {}\n", reports::to_string(m.verdict), printable(m.name), printable(value), printable(m.limit));
        }
    }
}

int show(archive::Archive& a, const std::string& serial, bool latest, const reports::TrustStore& trust, const fs::path& file) {
    archive::Filter f;
    f.serial = serial;
    auto rows = a.query(f);
    if (!rows) return fail(rows.error().message);
    if (rows->empty()) return fail(fmt::format("no certificate for serial '{}' in {}", serial, file.string()));
    if (latest) rows->erase(rows->begin(), rows->end() - 1);
    int rc = 0;
    for (const auto& r : *rows) {
        auto v = archive::verify_record(r, trust);
        if (v && v->certificate.unit.serial != serial)
            v = make_error(Errc::integrity, fmt::format("the signed payload is the certificate of '{}', not '{}'", v->certificate.unit.serial, serial));
        if (!v) {
            fmt::print("certificate {} of {}: NOT VALID: {}\n", r.id, printable(serial), printable(v.error().message));
            rc = 1;
            continue;
        }
        print_certificate(*v);
    }
    return rc;
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

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"rigctl: rig station keys, certificates and archive"};
    cli.set_version_flag("--version", "rigctl " RIG_VERSION);
    cli.require_subcommand(1);
    std::string data_dir = app::default_data_dir().string();
    cli.add_option("--data", data_dir, "data directory")->capture_default_str();

    auto* keygen = cli.add_subcommand("keygen", "generate the station signing key (refuses to overwrite; retires the station's previous key)");
    std::string station_id;
    keygen->add_option("--station", station_id, "station id the key signs for")->required();

    auto* verify = cli.add_subcommand("verify", "verify certificate files, or the whole archive");
    std::vector<std::string> files, trust, checkpoints;
    std::string archive_file;
    verify->add_option("files", files, "certificate files (.dsse.json)");
    verify->add_option("--trust", trust, "trusted key binding file or directory (default: DATA/trust); repeatable")->allow_extra_args(false);
    verify->add_option("--archive", archive_file, "verify every certificate, every column, the hash chain and its checkpoints");
    verify->add_option("--checkpoint", checkpoints, "a signed checkpoint held outside the station; the archive must reach it; repeatable")
        ->allow_extra_args(false);

    auto* list_cmd = cli.add_subcommand("list", "list certificates in the archive");
    archive::Filter filter;
    list_cmd->add_option("--serial", filter.serial, "only this unit");
    list_cmd->add_option("--lot", filter.lot, "only this lot");
    list_cmd->add_option("--variant", filter.variant, "only this variant");
    list_cmd->add_option("--verdict", filter.verdict, "pass, fail or error")->check(CLI::IsMember({"pass", "fail", "error"}));
    list_cmd->add_option("--station", filter.station, "only this station");
    list_cmd->add_option("--since", filter.since, "created at or after this ISO date/time (e.g. 2026-11-01)");
    list_cmd->add_option("--until", filter.until, "created before this ISO date/time");
    list_cmd->add_option("--trust", trust, "trusted key binding file or directory (default: DATA/trust); repeatable")->allow_extra_args(false);

    auto* show_cmd = cli.add_subcommand("show", "show a unit's certificates, verified");
    std::string show_serial;
    show_cmd->add_option("serial", show_serial, "unit serial")->required();
    show_cmd->add_option("--trust", trust, "trusted key binding file or directory (default: DATA/trust); repeatable")->allow_extra_args(false);
    bool latest = false;
    show_cmd->add_flag("--latest", latest, "only the unit's most recent certificate");

    auto* campaign = cli.add_subcommand("campaign", "run a simulated population through a simulated line and print its detection matrix");
    app::CampaignOptions camp;
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

    auto* status_cmd = cli.add_subcommand("status", "the nests of the rigd running on DATA: state and totals (its control socket)");
    auto* service = cli.add_subcommand("service", "take a nest out of service (it finishes its unit, then takes none) or back in");
    std::string service_station, service_state, service_reason;
    service->add_option("station", service_station, "the nest's station id")->required();
    service->add_option("state", service_state, "out or in")->required()->check(CLI::IsMember({"out", "in"}));
    service->add_option("--reason", service_reason, "why (logged, shown to the operator); required for out");

    auto* token = cli.add_subcommand("token", "API tokens of the rigd on DATA: create (the secret is printed once), list, revoke");
    token->require_subcommand(1);
    auto* token_create = token->add_subcommand("create", "make a token and print its secret (only its sha256 is kept)");
    std::string token_name, token_role, token_expires;
    std::vector<std::string> token_nests;
    token_create->add_option("--name", token_name, "who or what uses it (e.g. line1-bench3, supervisor-anna)")->required();
    token_create->add_option("--role", token_role, "operator, engineer, qa or admin")
        ->required()
        ->check(CLI::IsMember({"operator", "engineer", "qa", "admin"}));
    token_create->add_option("--nest", token_nests, "a nest an operator token may work; repeatable (operator tokens only)")->allow_extra_args(false);
    token_create->add_option("--expires", token_expires, "expiry: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (default: never)");
    auto* token_list = token->add_subcommand("list", "every token: name, role, nests, dates (never a secret)");
    auto* token_revoke = token->add_subcommand("revoke", "refuse a token from now on (rigd reads the change at once)");
    token_revoke->add_option("name", token_name, "the token's name")->required();

    // Bad arguments: one line naming the argument, exit 2 (CLI11's own codes are 100+).
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return cli.exit(e);
        std::fprintf(stderr, "rigctl: %s (see --help)\n", e.what());
        return 2;
    }
    const app::DataPaths paths{data_dir};
    if (*campaign) return app::run_campaign(camp, argv[0]);
    if (*status_cmd || *service) {
        if (*service && service_state == "out" && service_reason.empty()) {
            std::fprintf(stderr, "rigctl: service %s out: --reason is required (see --help)\n", service_station.c_str());
            return 2;
        }
        const std::string request = *status_cmd             ? std::string("status")
                                    : service_state == "out" ? "out-of-service " + service_station + " " + service_reason
                                                             : "in-service " + service_station;
        std::string reply;
        if (!app::control_request(paths.control(), request, reply)) return fail(reply);
        if (reply.rfind("error: ", 0) == 0) return fail(reply.substr(7, reply.find_last_not_of('\n') - 6));
        fmt::print("{}", reply);
        return 0;
    }

    if (*token) return token_command(paths.tokens(), token_create->parsed(), token_list->parsed(), token_name, token_role, token_nests, token_expires);
    if (*keygen) {
        auto key = reports::create_station_key(paths.key(), paths.trust(), station_id, reports::utc_now());
        if (!key) return fail(key.error().message);
        fmt::print("generated {} for station {}\n  secret {}\n  public {}\n", key->public_key().keyid(), station_id, paths.key().string(),
                   (paths.trust() / reports::binding_file_name(station_id, key->public_key())).string());
        return 0;
    }
    auto store = trust_from(trust, paths);
    if (*verify) {
        if (files.empty() && archive_file.empty()) return fail("verify: give certificate files or --archive FILE");
        if (!store) return fail(store.error().message);
        if (!archive_file.empty()) return verify_archive(archive_file, checkpoints, *store, paths);
        return verify_files(files, *store);
    }
    auto a = archive::Archive::open_read_only(paths.archive());
    if (!a) return fail(a.error().message);
    if (!store) return fail(store.error().message);
    if (*list_cmd) return list(*a, filter, *store);
    if (*show_cmd) return show(*a, show_serial, latest, *store, paths.archive());
    return 0;
}
