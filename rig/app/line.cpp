#include "rig/app/line.hpp"

#include <fmt/format.h>

#include "reports/text.hpp"

namespace rig::app {

namespace {

std::string who_text(const api::Identity& who) { return fmt::format("{} ({})", who.name, api::to_string(who.role)); }

void log_request(const Nest& n, const char* what, const api::Identity& who, const Result<void>& r) {
    fmt::print(stderr, "station={} event=api_request request={} by=\"{}\" result=\"{}\"\n", n.jig.station_id, what, reports::printable(who.name),
               r ? "ok" : reports::printable(r.error().message));
}

}  // namespace

Result<Nest*> NestLine::find(const std::string& id) const {
    std::string known;
    for (auto& n : nests_) {
        if (n.jig.station_id == id) {
            if (!n.station || n.result) return make_error(Errc::cancelled, "nest " + id + " has stopped");
            return &n;
        }
        if (!known.empty()) known += ", ";
        known += n.jig.station_id;
    }
    return make_error(Errc::not_found, fmt::format("no nest '{}' in this rigd (nests: {})", reports::printable(id), known));
}

std::vector<station::NestView> NestLine::nests() const {
    std::vector<station::NestView> out;
    out.reserve(nests_.size());
    for (const auto& n : nests_)
        if (n.station) out.push_back(n.station->view());
    return out;
}

Result<void> NestLine::scan(const std::string& nest, const std::string& serial, const api::Identity& who) {
    auto n = find(nest);
    if (!n) return n.error();
    auto r = (*n)->station->scan(serial);
    log_request(**n, "scan", who, r);
    return r;
}

Result<void> NestLine::start(const std::string& nest, const api::Identity& who) {
    auto n = find(nest);
    if (!n) return n.error();
    auto r = (*n)->station->start();
    log_request(**n, "start", who, r);
    return r;
}

Result<void> NestLine::abort(const std::string& nest, const api::Identity& who) {
    auto n = find(nest);
    if (!n) return n.error();
    auto r = (*n)->station->abort(who_text(who));
    log_request(**n, "abort", who, r);
    return r;
}

Result<void> NestLine::service(const std::string& nest, bool out, const std::string& reason, const api::Identity& who) {
    auto n = find(nest);
    if (!n) return n.error();
    (*n)->station->set_out_of_service(out, reports::printable(reason) + " (" + who_text(who) + ")");
    Result<void> ok;
    log_request(**n, out ? "out_of_service" : "in_service", who, ok);
    return ok;
}

Result<std::vector<std::string>> NestLine::log(const std::string& nest) const {
    auto n = find(nest);
    if (!n) return n.error();
    return (*n)->station->recent_log();
}

std::vector<api::PlanInfo> NestLine::plans() const {
    std::vector<api::PlanInfo> out;
    for (const auto& n : nests_) {
        auto it = std::find_if(out.begin(), out.end(), [&](const api::PlanInfo& p) { return p.variant == n.plan.id && p.sha256 == n.plan.sha256; });
        if (it == out.end()) {
            std::vector<std::string> files;
            for (const auto& f : n.plan.files) files.push_back(f);
            out.push_back({n.plan.id, n.plan.sha256, n.plan.canonical, std::move(files), {}});
            it = out.end() - 1;
        }
        it->nests.push_back(n.jig.station_id);
    }
    return out;
}

std::string NestLine::metrics() const { return metrics_.render(nests()); }

}  // namespace rig::app
