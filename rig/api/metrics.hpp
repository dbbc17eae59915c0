// /metrics in the Prometheus text exposition format (version 0.0.4): units per nest, variant
// and result, nest states, step durations and commit latency as histograms, certificates,
// jig watchdog trips. Fed with the nests' events on the io thread. No Asio.
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include "rig/station/nest_view.hpp"

namespace rig::api {

class Metrics {
public:
    void observe(const station::NestEvent& e);
    std::string render(const std::vector<station::NestView>& nests) const;

    struct Histogram {
        std::vector<double> bounds;
        std::vector<std::uint64_t> counts;  // per bound, not cumulative; the last is +Inf
        double sum = 0;
        std::uint64_t total = 0;
        void add(double v);
    };

private:
    std::map<std::string, Histogram> step_seconds_;  // by step kind
    Histogram commit_seconds_;
};

}  // namespace rig::api
