// rigctl verify: certificate files, a whole archive (with its exported copies and checkpoints),
// or an export bundle, as text or JSON.
#include <boost/json.hpp>
#include <fmt/format.h>
#include <regex>
#include <optional>
#include <set>

#include "reports/bundle.hpp"
#include "reports/files.hpp"
#include "reports/text.hpp"
#include "rig/archive/verified.hpp"
#include "rig/factory/reader.hpp"
#include "rig/qa/qa.hpp"
#include "rig/qa/verify_print.hpp"

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

std::string row_name(const std::string& archive, const archive::Record& r) { return fmt::format("{}#{} ({})", archive, r.id, printable(r.serial)); }

// Exported copies (DATA/certificates) must match the archive one for one: a deleted, swapped or
// extra file is a problem named by its path. Checked row by row as the archive streams past;
// when the directory holds more files than rows matched, a second pass names the extra ones.
class ExportCheck {
public:
    ExportCheck(fs::path dir, std::vector<std::string>& problems, std::size_t& unlisted) : dir_(std::move(dir)), problems_(problems), unlisted_(unlisted) {}

    void row(const archive::Record& r, const reports::ItemReport& item) {
        if (!item.ok) return;
        stations_.insert(item.station);
        const auto name = reports::certificate_file_name(item.serial, item.station, item.sequence);
        auto text = reports::read_file(dir_ / name);
        if (!text) problem(fmt::format("{}: missing (the export of archive row #{})", (dir_ / name).string(), r.id));
        else if (*text != r.envelope + "\n") problem(fmt::format("{}: differs from archive row #{} (swapped or edited)", (dir_ / name).string(), r.id));
        else ++matched_;
    }

    // Files no row accounts for: named SERIAL-STATION-NNNNNN.dsse.json for no row of the archive.
    void finish(archive::Reader& a) {
        std::error_code ec;
        std::uint64_t files = 0;
        for (const auto& e : fs::directory_iterator(dir_, ec)) files += e.path().extension() == ".json";
        if (files == matched_) return;
        for (const auto& e : fs::directory_iterator(dir_, ec))
            if (e.path().extension() == ".json" && !names_a_row(a, e.path().filename().string()))
                problem(fmt::format("{}: no archive row has this certificate", e.path().string()));
    }

private:
    bool names_a_row(archive::Reader& a, const std::string& file) {
        static const std::regex tail(R"(-([0-9]{6,})\.dsse\.json)");
        for (const auto& station : stations_) {
            const auto suffix_at = file.rfind("-" + station + "-");
            std::smatch m;
            if (suffix_at == std::string::npos || suffix_at == 0) continue;
            const std::string rest = file.substr(suffix_at + station.size() + 1);
            if (!std::regex_match(rest, m, tail)) continue;
            archive::Filter f;
            f.serial = file.substr(0, suffix_at);
            f.station = station;
            auto rows = a.query(f);
            if (!rows) continue;
            for (const auto& r : *rows)
                if (reports::certificate_file_name(r.serial, r.station, r.sequence) == file) return true;
        }
        return false;
    }
    void problem(std::string p) {
        if (problems_.size() < reports::StreamVerifier::kMaxProblems) problems_.push_back(std::move(p));
        else ++unlisted_;
    }

    fs::path dir_;
    std::vector<std::string>& problems_;
    std::size_t& unlisted_;
    std::set<std::string> stations_;
    std::uint64_t matched_ = 0;
};

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

int print_report(const reports::VerifyReport& report, const std::vector<std::string>& file_problems, bool as_json, bool brief,
                 json::object extra = {}) {
    VerifyPrinter out(as_json, brief);
    for (const auto& i : report.items) out.item(i);
    return out.finish(report, file_problems, 0, std::move(extra));
}

// The archive's own checkpoints, the data directory's checkpoint files, and any given by QA.
Result<std::vector<reports::CheckpointItem>> gather_checkpoints(archive::Reader& a, const fs::path& dir,
                                                                 const std::vector<std::string>& given) {
    std::vector<reports::CheckpointItem> out;
    auto stored = a.checkpoints();
    if (!stored) return stored.error();
    for (auto& e : *stored) out.push_back({a.name() + " checkpoints table", std::move(e)});
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

// One pass over the archive in commit order, holding no certificate: every row verified and
// printed as it is read, each station's chain linked as it comes.
int verify_archive(const reports::TrustStore& trust, const VerifyOptions& o) {
    auto opened = factory::open_reader(o.archive);
    if (!opened) return fail(opened.error());
    auto& a = **opened;
    auto cps = gather_checkpoints(a, o.data / "checkpoints", o.checkpoints);
    if (!cps) return fail(cps.error());
    reports::StreamVerifier verifier(trust, reports::Chain::complete, *cps);
    VerifyPrinter out(o.json, o.brief);
    std::vector<std::string> file_problems;
    std::size_t file_unlisted = 0;
    std::error_code ec;
    std::optional<ExportCheck> exports;
    if (!factory::pg::is_url(o.archive) && fs::equivalent(o.archive, o.data / "archive.sqlite", ec)) exports.emplace(o.data / "certificates", file_problems, file_unlisted);
    const auto name = a.name();
    auto rows = a.each_committed([&](const archive::Record& r) {
        const auto item = verifier.add({row_name(name, r), r.envelope, archive::columns_of(r)});
        out.item(item);
        if (exports) exports->row(r, item);
        return true;
    });
    if (!rows) return fail(rows.error());
    if (exports) exports->finish(a);
    return out.finish(verifier.finish(), file_problems, file_unlisted);
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
    return print_report(report, file_problems, o.json, o.brief);
}

int verify_bundle(const reports::TrustStore& trust, const std::string& file, bool as_json, bool brief) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return fail(fmt::format("{}: no such bundle (not a regular file)", file));
    auto b = reports::verify_bundle(file, trust);
    std::vector<std::string> problems;
    for (const auto& p : b.problems) problems.push_back(p.starts_with(file) ? p : fmt::format("{}: {}", file, p));
    if (as_json) {
        json::object extra{{"bundle", file}, {"signer", b.signer}};
        if (b.manifest) {
            json::object sel;
            for (const auto& [k, v] : b.manifest->selection) sel[k] = v;
            extra["manifest"] = json::object{{"created_at", b.manifest->created_at}, {"created_by", b.manifest->created_by}, {"selection", std::move(sel)},
                                             {"files", b.manifest->files.size()}};
        }
        for (const auto& n : b.notes) b.certificates.notes.push_back(n);
        return print_report(b.certificates, problems, true, brief, std::move(extra));
    }
    if (b.manifest)
        fmt::print("bundle {}: {} files, {} certificates, exported {} by {}, manifest signed by {}\n", file, b.manifest->files.size() + 1,
                   b.manifest->certificates, b.manifest->created_at, printable(b.manifest->created_by), b.signer);
    for (const auto& n : b.notes) b.certificates.notes.push_back(n);
    return print_report(b.certificates, problems, false, brief);
}

}  // namespace

int verify(const reports::TrustStore& trust, const VerifyOptions& o) {
    if (!o.archive.empty()) return verify_archive(trust, o);
    if (o.files.size() == 1 && is_bundle_name(o.files.front())) return verify_bundle(trust, o.files.front(), o.json, o.brief);
    for (const auto& f : o.files)
        if (is_bundle_name(f)) return fail(fmt::format("{}: a bundle is verified alone (rigctl verify BUNDLE)", f));
    return verify_files(trust, o);
}

}  // namespace rig::qa
