#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

#include "rig/steps/steps.hpp"

namespace rig::steps {

using namespace std::chrono;

Stats stats(const std::vector<double>& v) {
    Stats s;
    if (v.empty()) {
        s.mean = s.stddev = s.min = s.max = std::nan("");
        return s;
    }
    s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double sq = 0;
    for (double x : v) sq += (x - s.mean) * (x - s.mean);
    s.stddev = v.size() > 1 ? std::sqrt(sq / static_cast<double>(v.size() - 1)) : 0.0;
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    s.min = *lo;
    s.max = *hi;
    return s;
}

double spread_pct(const std::vector<double>& v) {
    auto s = stats(v);
    if (v.empty() || s.mean <= 0) return std::nan("");
    return (s.max - s.min) / s.mean * 100.0;
}

int count_param(const plan::StepSpec& spec, const char* name, int lo, int hi) {
    const double v = spec.number(name);
    if (!(v >= lo && v <= hi)) throw std::invalid_argument(fmt::format("step '{}': param '{}' = {} outside {}..{}", spec.id, name, v, lo, hi));
    return static_cast<int>(v);
}

std::vector<double> number_list_param(const plan::StepSpec& spec, const char* name, double lo, double hi) {
    const std::string text = spec.text(name);
    std::vector<double> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto comma = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, comma - pos);
        double v = 0;
        std::size_t used = 0;
        try {
            v = std::stod(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        while (used < item.size() && item[used] == ' ') ++used;
        if (used == 0 || used != item.size() || !(v >= lo && v <= hi))
            throw std::invalid_argument(fmt::format("step '{}': param '{}' = \"{}\": '{}' is not a number in {}..{}", spec.id, name, text, item, lo, hi));
        out.push_back(v);
        pos = comma + 1;
    }
    return out;
}

std::vector<int> int_list_param(const plan::StepSpec& spec, const char* name, int lo, int hi, bool may_be_empty) {
    std::vector<int> out;
    for (double v : number_list_param(spec, name, lo, hi)) {
        if (v != std::floor(v)) throw std::invalid_argument(fmt::format("step '{}': param '{}': {} is not a whole number", spec.id, name, v));
        out.push_back(static_cast<int>(v));
    }
    if (out.empty() && !may_be_empty) throw std::invalid_argument(fmt::format("step '{}': param '{}' lists nothing", spec.id, name));
    return out;
}

std::vector<double> rc_pattern(int channels) {
    // A distinct value on every channel, so a swap of any two shows, and all of them below
    // 1650 µs: no arm switch or throttle a flight controller could act on is ever high.
    std::vector<double> out;
    for (int i = 0; i < channels; ++i) out.push_back(1010.0 + 40.0 * i);
    return out;
}

asio::awaitable<Result<void>> Context::sleep(milliseconds d) {
    // In slices, so an abort or the step deadline ends the dwell promptly.
    const auto until = steady_clock::now() + d;
    asio::steady_timer t(co_await asio::this_coro::executor);
    while (steady_clock::now() < until) {
        auto b = control.budget(milliseconds(50));
        if (!b) co_return b.error();
        t.expires_after(std::min<steady_clock::duration>(*b, until - steady_clock::now()));
        co_await t.async_wait(asio::use_awaitable);
    }
    // How late the dwell ended: the step-timing jitter a campaign reports.
    control.dwell_ended(steady_clock::now() - until);
    co_return Result<void>{};
}

const std::vector<StepKind>& kinds() {
    // Built on first use (after every domain file's kind is initialised), in the order the
    // catalogue lists them.
    static const std::vector<StepKind> all = {fc_identity_kind,  idle_current_kind, vbat_accuracy_kind, fc_config_kind,
                                                  imu_static_kind,   baro_static_kind,  mag_static_kind,    radio_link_kind,
                                                  radio_failsafe_kind, motors_spin_kind,
                                                  can_nodes_kind,    esc_spin_kind,      power_supply_kind, vtx_power_kind};
    return all;
}

const plan::Catalogue& catalogue() {
    static const plan::Catalogue schemas = [] {
        plan::Catalogue c;
        for (const auto& k : kinds()) c.push_back(k.schema);
        return c;
    }();
    return schemas;
}

Result<void> check_declared(const plan::KindSchema& kind, const sequencer::StepOutput& out) {
    for (const auto& m : out) {
        const std::string& key = !m.limit_key.empty() ? m.limit_key : !m.declared.empty() ? m.declared : m.name;
        const plan::MeasurementSchema* d = kind.measurement(key);
        std::string wrong;
        if (!d) wrong = "is not declared";
        else if (d->numeric == m.is_text) wrong = fmt::format("is declared {}", d->numeric ? "numeric" : "text");
        else if (d->unit != m.unit) wrong = fmt::format("has unit '{}', declared '{}'", m.unit, d->unit);
        else if (d->judged == m.limit_key.empty()) wrong = d->judged ? "is declared judged but was only recorded" : "is declared recorded but was judged";
        if (!wrong.empty())
            return make_error(Errc::protocol_error, fmt::format("step kind {}: measurement '{}' {} (a defect of the step's code)", kind.kind, m.name, wrong));
    }
    return {};
}

namespace {
StepResult run_checked(Context& ctx, const StepKind& kind, const plan::StepSpec& spec) {
    auto out = co_await kind.run(ctx, spec);
    if (!out) co_return out.error();
    if (auto ok = check_declared(kind.schema, *out); !ok) co_return ok.error();
    co_return out;
}
}  // namespace

sequencer::Registry make_registry(Context& ctx) {
    sequencer::Registry r;
    for (const auto& k : kinds()) r[k.schema.kind] = [&ctx, &k](const plan::StepSpec& s) { return run_checked(ctx, k, s); };
    return r;
}

}  // namespace rig::steps
