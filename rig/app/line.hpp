// rigd's nests, and the API's view of them (api::Line): the operator's requests reach the
// nests' stations here, and every request that changes a nest is logged with who made it.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "rig/api/line.hpp"
#include "rig/api/metrics.hpp"
#include "rig/archive/ledger.hpp"
#include "rig/plan/plan.hpp"
#include "rig/station/jigfile.hpp"
#include "rig/station/station.hpp"

namespace rig::app {

struct Nest {
    station::JigFile jig;
    plan::Plan plan;
    std::optional<archive::Ledger> ledger;
    std::unique_ptr<station::Station> station;
    std::optional<Result<station::Totals>> result;  // set when the nest has stopped
};

class NestLine : public api::Line {
public:
    NestLine(std::vector<Nest>& nests, api::Metrics& metrics) : nests_(nests), metrics_(metrics) {}
    std::vector<station::NestView> nests() const override;
    Result<void> scan(const std::string& nest, const std::string& serial, const api::Identity& who) override;
    Result<void> start(const std::string& nest, const api::Identity& who) override;
    Result<void> abort(const std::string& nest, const api::Identity& who) override;
    Result<void> service(const std::string& nest, bool out, const std::string& reason, const api::Identity& who) override;
    Result<std::vector<std::string>> log(const std::string& nest) const override;
    std::vector<api::PlanInfo> plans() const override;
    std::string metrics() const override;

private:
    Result<Nest*> find(const std::string& id) const;
    std::vector<Nest>& nests_;
    api::Metrics& metrics_;
};

}  // namespace rig::app
