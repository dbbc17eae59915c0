// rigctl: keys, certificate verification and archive queries for QA.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "reports/certificate.hpp"
#include "reports/dsse.hpp"
#include "reports/verify.hpp"
#include "rig/app/paths.hpp"
#include "rig/archive/archive.hpp"

using namespace rig;
namespace fs = std::filesystem;

namespace {

int fail(const std::string& message) {
    fmt::print(stderr, "rigctl: {}\n", message);
    return 2;
}

Result<reports::TrustStore> trust_from(const std::vector<std::string>& trust, const app::DataPaths& paths) {
    reports::TrustStore store;
    std::vector<std::string> sources = trust;
    if (sources.empty()) sources.push_back(paths.trust().string());
    for (const auto& t : sources) {
        auto r = fs::is_directory(t) ? store.add_directory(t) : store.add_file(t);
        if (!r) return r.error();
    }
    if (store.empty()) return make_error(Errc::not_found, fmt::format("no trusted keys in {}", fmt::join(sources, ", ")));
    return store;
}

int print_report(const reports::VerifyReport& report) {
    int bad = 0;
    for (const auto& i : report.items) {
        if (i.ok) fmt::print("OK    {}  serial={} verdict={} station={} seq={} sha256={}\n", i.name, i.serial, i.verdict, i.station, i.sequence, i.sha256.substr(0, 16));
        else {
            ++bad;
            fmt::print("BAD   {}  {}\n", i.name, i.problem);
        }
    }
    for (const auto& p : report.chain_problems) fmt::print("CHAIN {}\n", p);
    const auto total = report.items.size();
    if (report.ok()) fmt::print("verified {} certificate{}\n", total, total == 1 ? "" : "s");
    else fmt::print("FAILED: {} of {} certificates bad, {} chain problem{}\n", bad, total, report.chain_problems.size(), report.chain_problems.size() == 1 ? "" : "s");
    return report.ok() ? 0 : 1;
}

void print_record(const archive::Record& r) {
    fmt::print("{:>5}  {:<14} {:<8} {:<5} {} station={} seq={} sha256={}\n", r.id, r.serial, r.variant, r.verdict, r.created_at, r.station,
               r.sequence, r.sha256.substr(0, 16));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"rigctl: rig station keys, certificates and archive"};
    cli.require_subcommand(1);
    std::string data_dir = app::default_data_dir().string();
    cli.add_option("--data", data_dir, "data directory")->capture_default_str();

    auto* keygen = cli.add_subcommand("keygen", "generate the station signing key (refuses to overwrite)");
    std::string station_id = "station";
    keygen->add_option("--station", station_id, "station id, names the public key file");

    auto* verify = cli.add_subcommand("verify", "verify certificate files, or the whole archive");
    std::vector<std::string> files, trust;
    std::string archive_file;
    verify->add_option("files", files, "certificate files (.dsse.json)");
    verify->add_option("--trust", trust, "trusted public key file or directory (default: DATA/trust); repeatable")->allow_extra_args(false);
    verify->add_option("--archive", archive_file, "verify every certificate and the hash chain of this archive");

    auto* list = cli.add_subcommand("list", "list certificates in the archive");
    archive::Filter filter;
    list->add_option("--serial", filter.serial, "only this unit");
    list->add_option("--lot", filter.lot, "only this lot");
    list->add_option("--variant", filter.variant, "only this variant");
    list->add_option("--verdict", filter.verdict, "pass, fail or error")->check(CLI::IsMember({"pass", "fail", "error"}));
    list->add_option("--station", filter.station, "only this station");
    list->add_option("--since", filter.since, "created at or after this ISO date/time (e.g. 2026-11-01)");
    list->add_option("--until", filter.until, "created before this ISO date/time");

    auto* show = cli.add_subcommand("show", "show a unit's certificates, verified");
    std::string show_serial;
    show->add_option("serial", show_serial, "unit serial")->required();
    show->add_option("--trust", trust, "trusted public key file or directory (default: DATA/trust); repeatable")->allow_extra_args(false);
    bool latest = false;
    show->add_flag("--latest", latest, "only the unit's most recent certificate");

    CLI11_PARSE(cli, argc, argv);
    const app::DataPaths paths{data_dir};

    if (*keygen) {
        if (fs::exists(paths.key())) return fail(fmt::format("{}: a station key exists already; move it away first", paths.key().string()));
        auto key = reports::StationKey::generate();
        auto pub = paths.public_key(station_id, key.public_key().keyid());
        if (auto r = key.save(paths.key(), pub); !r) return fail(r.error().message);
        fmt::print("generated {}\n  secret {}\n  public {}\n", key.public_key().keyid(), paths.key().string(), pub.string());
        return 0;
    }

    if (*verify) {
        if (files.empty() && archive_file.empty()) return fail("verify: give certificate files or --archive FILE");
        auto store = trust_from(trust, paths);
        if (!store) return fail(store.error().message);
        std::vector<reports::Item> items;
        if (!archive_file.empty()) {
            if (!fs::exists(archive_file)) return fail(fmt::format("{}: no such archive", archive_file));
            auto a = archive::Archive::open(archive_file);
            if (!a) return fail(a.error().message);
            auto rows = a->all();
            if (!rows) return fail(rows.error().message);
            for (const auto& r : *rows) items.push_back({fmt::format("{}#{} ({})", archive_file, r.id, r.serial), r.envelope});
            return print_report(reports::verify(items, *store, true));
        }
        for (const auto& f : files) {
            std::ifstream in(f);
            if (!in) return fail(fmt::format("{}: cannot open", f));
            std::stringstream ss;
            ss << in.rdbuf();
            items.push_back({f, ss.str()});
        }
        return print_report(reports::verify(items, *store, false));
    }

    auto a = archive::Archive::open(paths.archive());
    if (!a) return fail(a.error().message);
    if (*list) {
        auto rows = a->query(filter);
        if (!rows) return fail(rows.error().message);
        for (const auto& r : *rows) print_record(r);
        fmt::print("{} certificate{}\n", rows->size(), rows->size() == 1 ? "" : "s");
        return 0;
    }
    if (*show) {
        auto store = trust_from(trust, paths);
        if (!store) return fail(store.error().message);
        auto rows = a->by_serial(show_serial);
        if (!rows) return fail(rows.error().message);
        if (rows->empty()) return fail(fmt::format("no certificate for serial '{}' in {}", show_serial, paths.archive().string()));
        int rc = 0;
        if (latest) rows->erase(rows->begin(), rows->end() - 1);
        for (const auto& r : *rows) {
            auto v = reports::verify_envelope(r.envelope, *store);
            if (!v) {
                fmt::print("certificate {} of {}: NOT VALID: {}\n", r.id, r.serial, v.error().message);
                rc = 1;
                continue;
            }
            auto c = reports::from_json(v->payload);
            if (!c) {
                fmt::print("certificate {} of {}: NOT VALID: {}\n", r.id, r.serial, c.error().message);
                rc = 1;
                continue;
            }
            fmt::print("{} {} {} — {} (signed by {}, station {} #{})\n", c->unit.serial, c->unit.variant, c->unit.lot,
                       reports::to_string(c->verdict), v->keyid, c->station.id, c->station.sequence);
            fmt::print("  dut: {} board {} uid {}\n  plan: {} sha256 {}\n  time: {} .. {}\n", c->dut.firmware, c->dut.board, c->dut.uid, c->plan.id,
                       c->plan.sha256.substr(0, 16), c->started_at, c->finished_at);
            for (const auto& s : c->steps) {
                fmt::print("  {:<5} {:<20} {:<10} {:.2f}s {}\n", reports::to_string(s.verdict), s.kind, s.id, s.duration_s, s.message);
                for (const auto& m : s.measurements) {
                    std::string value = m.text.empty() ? fmt::format("{:.4g} {}", m.value, m.unit) : m.text;
                    fmt::print("        {:<4} {:<16} {:<24} {}\n", reports::to_string(m.verdict), m.name, value, m.limit);
                }
            }
        }
        return rc;
    }
    return 0;
}
