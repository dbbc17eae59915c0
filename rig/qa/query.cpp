// rigctl list and show.
#include <boost/json.hpp>
#include <cstdio>
#include <fmt/format.h>

#include "reports/files.hpp"
#include "reports/html.hpp"
#include "reports/text.hpp"
#include "rig/archive/verified.hpp"
#include "rig/factory/reader.hpp"
#include "rig/qa/qa.hpp"

namespace rig::qa {
namespace json = boost::json;
using reports::printable;

namespace {

json::object row_json(const archive::Record& r) {
    return {{"row", r.id},         {"serial", r.serial},         {"variant", r.variant},       {"lot", r.lot},
            {"verdict", r.verdict}, {"created_at", r.created_at}, {"station", r.station},       {"sequence", r.sequence},
            {"sha256", r.sha256}};
}

}  // namespace

int list(const Source& src, const ListOptions& o) {
    auto opened = factory::open_reader(src.archive);
    if (!opened) return fail(opened.error());
    auto& a = **opened;
    std::uint64_t shown = 0, bad = 0;
    if (o.json) fmt::print("{{\"certificates\":[");
    auto n = a.each(o.filter, o.verify ? archive::Reader::Read::envelopes : archive::Reader::Read::index, [&](const archive::Record& r) {
        std::string problem;
        if (o.verify)
            if (auto v = archive::verify_record(r, src.trust); !v) problem = v.error().message;
        if (!problem.empty()) ++bad;
        if (o.json) {
            auto row = row_json(r);
            if (o.verify) row["valid"] = problem.empty();
            if (!problem.empty()) row["problem"] = problem;
            fmt::print("{}\n{}", shown ? "," : "", json::serialize(row));
        } else if (!problem.empty()) {
            fmt::print("{:>5}  NOT VALID: {}\n", r.id, printable(problem));
        } else {
            fmt::print("{:>5}  {:<14} {:<8} {:<5} {} station={} seq={} sha256={}\n", r.id, printable(r.serial), printable(r.variant), r.verdict,
                       r.created_at, printable(r.station), r.sequence, r.sha256.substr(0, 16));
        }
        ++shown;
        return true;
    });
    if (!n) {
        if (o.json) fmt::print("]}}\n");
        std::fflush(stdout);
        return fail(n.error());
    }
    if (o.json) {
        fmt::print("],\"count\":{},\"verified\":{}", shown, o.verify);
        if (o.verify) fmt::print(",\"not_valid\":{}", bad);
        fmt::print("}}\n");
    } else {
        fmt::print("{} certificate{}{}{}\n", shown, shown == 1 ? "" : "s", bad ? fmt::format(", {} NOT VALID", bad) : "",
                   o.verify ? ", each verified against its signature" : " (the archive's index; --verify checks each against its signature)");
    }
    return bad ? exit_verification_failed : exit_ok;
}

namespace {

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

struct Shown {
    archive::Record row;
    Result<reports::VerifiedCertificate> verified;
};

}  // namespace

int show(const Source& src, const ShowOptions& o) {
    auto opened = factory::open_reader(src.archive);
    if (!opened) return fail(opened.error());
    auto& a = **opened;
    archive::Filter f;
    f.serial = o.serial;
    if (o.latest) {
        f.newest_first = true;
        f.limit = 1;
    }
    std::vector<Shown> found;
    auto n = a.each(f, archive::Reader::Read::envelopes, [&](const archive::Record& r) {
        auto v = archive::verify_record(r, src.trust);
        if (v && v->certificate.unit.serial != o.serial)
            v = make_error(Errc::integrity, fmt::format("the signed payload is the certificate of '{}', not '{}'", v->certificate.unit.serial, o.serial));
        found.push_back({r, std::move(v)});
        return true;
    });
    if (!n) return fail(n.error());
    if (found.empty()) return fail(fmt::format("no certificate for serial '{}' in {}", o.serial, a.name()), exit_not_found);
    int rc = exit_ok;
    for (const auto& s : found)
        if (!s.verified) rc = exit_verification_failed;
    if (o.html) {
        std::vector<reports::HtmlCertificate> pages;
        for (const auto& s : found) {
            if (!s.verified) {
                fmt::print(stderr, "rigctl: certificate {} of {}: NOT VALID: {}\n", s.row.id, printable(o.serial), printable(s.verified.error().message));
                continue;
            }
            pages.push_back({&*s.verified, fmt::format("{} row #{}", factory::pg::is_url(src.archive) ? a.name() : std::filesystem::path(src.archive).filename().string(), s.row.id)});
        }
        if (pages.empty()) return rc;
        const auto html = reports::certificates_html(pages, reports::utc_now());
        if (o.output.empty()) fmt::print("{}", html);
        else if (auto w = reports::write_file_atomic(o.output, html, 0644); !w) return fail(w.error());
        return rc;
    }
    if (o.json) {
        json::array out;
        for (const auto& s : found) {
            auto row = row_json(s.row);
            row["valid"] = bool(s.verified);
            if (!s.verified) row["problem"] = s.verified.error().message;
            else {
                row["keyid"] = s.verified->keyid;
                row["certificate"] = json::parse(s.verified->payload);
            }
            out.push_back(std::move(row));
        }
        fmt::print("{}\n", json::serialize(json::object{{"serial", o.serial}, {"certificates", std::move(out)}}));
        return rc;
    }
    for (const auto& s : found) {
        if (!s.verified) fmt::print("certificate {} of {}: NOT VALID: {}\n", s.row.id, printable(o.serial), printable(s.verified.error().message));
        else print_certificate(*s.verified);
    }
    return rc;
}

}  // namespace rig::qa
