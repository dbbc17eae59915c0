// rigctl verify: certificate files, a whole archive (with its exported copies and checkpoints),
// or an export bundle, as text or JSON.
#include <boost/json.hpp>
#include <fmt/format.h>
#include <regex>
#include <set>

#include "reports/bundle.hpp"
#include "reports/files.hpp"
#include "reports/text.hpp"
#include "rig/archive/verified.hpp"
#include "rig/qa/qa.hpp"

namespace rig::qa {
namespace fs = std::filesystem;
namespace json = boost::json;
using reports::printable;

bool is_bundle_name(const std::string& file) {
    for (const char* ext : {".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.zst"})
        if (file.ends_with(ext)) return true;
    return false;
}

namespace {

std::string row_name(const fs::path& archive, const archive::Record& r) { return fmt::format("{}#{} ({})", archive.string(), r.id, printable(r.serial)); }

// Exported copies (DATA/certificates) must match the archive one for one: a deleted, swapped or
// extra file is a problem named by its path.
void check_exports(const std::vector<archive::Record>& rows, const reports::VerifyReport& report, const fs::path& dir, std::vector<std::string>& problems) {
    std::set<std::string> expected;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& item = report.items[i];
        if (!item.ok) continue;
        const auto name = reports::certificate_file_name(item.serial, item.station, item.sequence);
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
        const auto want = reports::certificate_file_name(item.serial, item.station, item.sequence);
        if (base != want)
            problems.push_back(fmt::format("{}: holds the certificate of {} station {} #{} (an export named {})", item.name, item.serial, item.station,
                                           item.sequence, want));
    }
}

json::array strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.push_back(json::string(s));
    return a;
}

json::object report_json(const reports::VerifyReport& report, const std::vector<std::string>& file_problems, bool ok) {
    json::array items;
    std::size_t bad = 0;
    for (const auto& i : report.items) {
        json::object o{{"name", i.name}, {"ok", i.ok}};
        if (i.ok) {
            o["serial"] = i.serial;
            o["verdict"] = i.verdict;
            o["station"] = i.station;
            o["sequence"] = i.sequence;
            o["sha256"] = i.sha256;
        } else {
            o["problem"] = i.problem;
            ++bad;
        }
        items.push_back(std::move(o));
    }
    return {{"ok", ok},
            {"certificates", report.items.size()},
            {"bad", bad},
            {"items", std::move(items)},
            {"row_problems", strings(report.column_problems)},
            {"checkpoint_problems", strings(report.checkpoint_problems)},
            {"chain_problems", strings(report.chain_problems)},
            {"file_problems", strings(file_problems)},
            {"notes", strings(report.notes)}};
}

int print_report(const reports::VerifyReport& report, const std::vector<std::string>& file_problems, bool as_json) {
    const bool ok = report.ok() && file_problems.empty();
    if (as_json) {
        fmt::print("{}\n", json::serialize(report_json(report, file_problems, ok)));
        return ok ? exit_ok : exit_verification_failed;
    }
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
    if (ok) fmt::print("verified {} certificate{}\n", total, total == 1 ? "" : "s");
    else fmt::print("FAILED: {} of {} certificates bad, {} other problem{}\n", bad, total, others, others == 1 ? "" : "s");
    return ok ? exit_ok : exit_verification_failed;
}

// The archive's own checkpoints, the data directory's checkpoint files, and any given by QA.
Result<std::vector<reports::CheckpointItem>> gather_checkpoints(archive::Archive& a, const fs::path& archive_file, const fs::path& dir,
                                                                 const std::vector<std::string>& given) {
    std::vector<reports::CheckpointItem> out;
    auto stored = a.checkpoints();
    if (!stored) return stored.error();
    for (auto& e : *stored) out.push_back({archive_file.string() + " checkpoints table", std::move(e)});
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
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

int verify_archive(const reports::TrustStore& trust, const VerifyOptions& o) {
    auto a = archive::Archive::open_read_only(o.archive);
    if (!a) return fail(a.error());
    auto rows = a->all();
    if (!rows) return fail(rows.error());
    std::vector<reports::Item> items;
    for (const auto& r : *rows) items.push_back({row_name(o.archive, r), r.envelope, archive::columns_of(r)});
    auto cps = gather_checkpoints(*a, o.archive, o.data / "checkpoints", o.checkpoints);
    if (!cps) return fail(cps.error());
    auto report = reports::verify(items, trust, reports::Chain::complete, *cps);
    std::vector<std::string> file_problems;
    std::error_code ec;
    if (fs::equivalent(o.archive, o.data / "archive.sqlite", ec)) check_exports(*rows, report, o.data / "certificates", file_problems);
    return print_report(report, file_problems, o.json);
}

int verify_files(const reports::TrustStore& trust, const VerifyOptions& o) {
    std::vector<reports::Item> items;
    for (const auto& f : o.files) {
        auto text = reports::read_file(f);
        if (!text) return fail(text.error());
        items.push_back({f, *text, std::nullopt});
    }
    auto report = reports::verify(items, trust, reports::Chain::loose);
    std::vector<std::string> file_problems;
    check_file_names(report, file_problems);
    return print_report(report, file_problems, o.json);
}

int verify_bundle(const reports::TrustStore& trust, const std::string& file, bool as_json) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return fail(fmt::format("{}: no such bundle (not a regular file)", file));
    auto b = reports::verify_bundle(file, trust);
    std::vector<std::string> problems;
    for (const auto& p : b.problems) problems.push_back(p.starts_with(file) ? p : fmt::format("{}: {}", file, p));
    if (as_json) {
        auto o = report_json(b.certificates, problems, b.ok());
        o["bundle"] = file;
        o["signer"] = b.signer;
        if (b.manifest) {
            json::object sel;
            for (const auto& [k, v] : b.manifest->selection) sel[k] = v;
            o["manifest"] = json::object{{"created_at", b.manifest->created_at}, {"created_by", b.manifest->created_by}, {"selection", std::move(sel)},
                                         {"files", b.manifest->files.size()}};
        }
        for (const auto& n : b.notes) o["notes"].as_array().push_back(json::string(n));
        fmt::print("{}\n", json::serialize(o));
        return b.ok() ? exit_ok : exit_verification_failed;
    }
    if (b.manifest)
        fmt::print("bundle {}: {} files, {} certificates, exported {} by {}, manifest signed by {}\n", file, b.manifest->files.size() + 1,
                   b.manifest->certificates, b.manifest->created_at, printable(b.manifest->created_by), b.signer);
    for (const auto& n : b.notes) b.certificates.notes.push_back(n);
    return print_report(b.certificates, problems, false);
}

}  // namespace

int verify(const reports::TrustStore& trust, const VerifyOptions& o) {
    if (!o.archive.empty()) return verify_archive(trust, o);
    if (o.files.size() == 1 && is_bundle_name(o.files.front())) return verify_bundle(trust, o.files.front(), o.json);
    for (const auto& f : o.files)
        if (is_bundle_name(f)) return fail(fmt::format("{}: a bundle is verified alone (rigctl verify BUNDLE)", f));
    return verify_files(trust, o);
}

}  // namespace rig::qa
