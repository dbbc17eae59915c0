// rigctl stats: yield, Pareto, capability and run rules over a selection of the archive.
#include <fmt/format.h>
#include <optional>

#include "reports/files.hpp"
#include "reports/stats.hpp"
#include "reports/text.hpp"
#include "rig/archive/verified.hpp"
#include "rig/factory/reader.hpp"
#include "rig/qa/qa.hpp"

namespace rig::qa {
using reports::printable;

namespace {
std::string describe(const archive::Filter& f) {
    std::string s;
    for (auto [k, v] : {std::pair{"serial", &f.serial}, {"lot", &f.lot}, {"variant", &f.variant}, {"verdict", &f.verdict}, {"station", &f.station},
                        {"since", &f.since}, {"until", &f.until}})
        if (!v->empty()) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", k, *v);
    return s.empty() ? "every certificate" : s;
}
// Where a row stands among its unit's rows in the selection: the serial's few rows, read along
// the serial index with the same filter. Nothing is kept per unit, so a whole archive's
// statistics take the memory of its series, not of its units.
Result<reports::UnitPlace> place_of(archive::Reader& a, const archive::Filter& selection, const archive::Record& row) {
    archive::Filter unit = selection;
    unit.serial = row.serial;
    unit.limit = unit.offset = 0;
    unit.newest_first = false;
    reports::UnitPlace place;
    std::int64_t first = 0, last = 0;
    auto n = a.each(unit, archive::Reader::Read::index, [&](const archive::Record& r) {
        if (!first) {
            first = r.id;
            place.variant = r.variant;
            place.lot = r.lot;
            place.station = r.station;
        }
        last = r.id;
        return true;
    });
    if (!n) return n.error();
    place.first = first == row.id;
    place.last = last == row.id;
    return place;
}

}  // namespace

int stats(const Source& src, const StatsOptions& o) {
    auto opened = factory::open_reader(src.archive);
    if (!opened) return fail(opened.error());
    auto& a = **opened;
    reports::StatsBuilder builder(o.points);
    std::uint64_t bad = 0;
    std::optional<Error> failed;
    auto n = a.each(o.filter, archive::Reader::Read::envelopes, [&](const archive::Record& r) {
        auto v = archive::verify_record(r, src.trust);
        if (!v) {
            ++bad;
            fmt::print(stderr, "rigctl: left out of the statistics: {}#{} ({}): NOT VALID: {}\n", a.name(), r.id, printable(r.serial),
                       printable(v.error().message));
            return true;
        }
        auto place = place_of(a, o.filter, r);
        if (!place) {
            failed = place.error();
            return false;
        }
        builder.add(v->certificate, *place);
        return true;
    });
    if (!n) return fail(n.error());
    if (failed) return fail(*failed);
    const auto s = builder.finish();
    if (s.certificates == 0 && bad == 0)
        return fail(fmt::format("no certificate in {} matches ({})", a.name(), describe(o.filter)), exit_not_found);
    if (!o.html.empty()) {
        const auto html = reports::stats_html(s, "rig statistics: " + describe(o.filter), reports::utc_now());
        if (auto w = reports::write_file_atomic(o.html, html, 0644); !w) return fail(w.error());
    }
    if (o.json) fmt::print("{}", reports::stats_json(s));
    else if (o.html.empty()) fmt::print("{}", reports::stats_text(s));
    else fmt::print("wrote {}: {} certificates of {} units\n", o.html, s.certificates, s.units);
    if (bad) return fail(fmt::format("{} selected certificate{} did not verify and {} left out", bad, bad == 1 ? "" : "s", bad == 1 ? "is" : "are"),
                         exit_verification_failed);
    return exit_ok;
}

}  // namespace rig::qa
