#include "rig/qa/verify_print.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "reports/text.hpp"
#include "rig/qa/qa.hpp"

namespace rig::qa {
namespace json = boost::json;
using reports::printable;

namespace {

json::array strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.push_back(json::string(s));
    return a;
}

}  // namespace

// JSON: {"items":[...] is written item by item, and finish() closes it with the rest of the object.
void VerifyPrinter::item(const reports::ItemReport& i) {
    ++total_;
    if (!i.ok) ++bad_;
    if (brief_ && i.ok) return;
    if (json_) {
        json::object o{{"name", i.name}, {"ok", i.ok}};
        if (i.ok) {
            o["serial"] = i.serial;
            o["verdict"] = i.verdict;
            o["station"] = i.station;
            o["sequence"] = i.sequence;
            o["sha256"] = i.sha256;
        } else {
            o["problem"] = i.problem;
        }
        fmt::print("{}{}", listed_++ ? "," : "{\"items\":[", json::serialize(o));
        return;
    }
    if (i.ok) fmt::print("OK    {}  serial={} verdict={} station={} seq={} sha256={}\n", printable(i.name), i.serial, i.verdict, i.station, i.sequence, i.sha256.substr(0, 16));
    else fmt::print("BAD   {}  {}\n", printable(i.name), printable(i.problem));
}

int VerifyPrinter::finish(const reports::VerifyReport& report, const std::vector<std::string>& file_problems, std::size_t file_unlisted,
                          json::object extra) {
    const std::size_t unlisted = report.unlisted + file_unlisted;
    const bool ok = bad_ == 0 && report.ok() && file_problems.empty() && unlisted == 0;
    if (json_) {
        json::object o{{"ok", ok},
                       {"certificates", total_},
                       {"bad", bad_},
                       {"row_problems", strings(report.column_problems)},
                       {"checkpoint_problems", strings(report.checkpoint_problems)},
                       {"chain_problems", strings(report.chain_problems)},
                       {"file_problems", strings(file_problems)},
                       {"problems_not_listed", unlisted},
                       {"notes", strings(report.notes)}};
        for (auto& [k, v] : extra) o[k] = std::move(v);
        auto rest = json::serialize(o);  // {"ok":...}: its keys follow the items
        fmt::print("{}],{}\n", listed_ ? "" : "{\"items\":[", rest.substr(1));
        return ok ? exit_ok : exit_verification_failed;
    }
    for (const auto& p : report.column_problems) fmt::print("ROW   {}\n", printable(p));
    for (const auto& p : report.checkpoint_problems) fmt::print("CHECKPOINT {}\n", printable(p));
    for (const auto& p : report.chain_problems) fmt::print("CHAIN {}\n", printable(p));
    for (const auto& p : file_problems) fmt::print("FILE  {}\n", printable(p));
    if (unlisted) fmt::print("MORE  {} further problem{} not listed\n", unlisted, unlisted == 1 ? "" : "s");
    for (const auto& n : report.notes) fmt::print("note: {}\n", printable(n));
    const auto others = report.column_problems.size() + report.checkpoint_problems.size() + report.chain_problems.size() + file_problems.size() + unlisted;
    if (ok) fmt::print("verified {} certificate{}\n", total_, total_ == 1 ? "" : "s");
    else fmt::print("FAILED: {} of {} certificates bad, {} other problem{}\n", bad_, total_, others, others == 1 ? "" : "s");
    return ok ? exit_ok : exit_verification_failed;
}

}  // namespace rig::qa
