// can.nodes and esc.spin: the drone's CAN bus (DroneCAN ESCs and the FC as nodes) and each ESC
// spun and read through its own telemetry.
#include <algorithm>
#include <fmt/format.h>

#include "rig/steps/measure.hpp"
#include "rig/steps/steps.hpp"

namespace rig::steps {

using namespace std::chrono;

namespace {

Result<devices::EscBus*> bus_of(Context& ctx) {
    if (!ctx.esc) return make_error(Errc::invalid_argument, "this jig has no CAN bus ([devices.can] in the jig file)");
    return ctx.esc;
}

std::string join(const std::vector<int>& ids) {
    if (ids.empty()) return "none";
    std::string s;
    for (int id : ids) {
        if (!s.empty()) s += ',';
        s += std::to_string(id);
    }
    return s;
}

// Every expected node: the FC (when the plan names one) and the ESCs, by node id.
std::vector<std::pair<int, std::string>> expected_nodes(const plan::StepSpec& spec) {
    std::vector<std::pair<int, std::string>> out;
    const int fc = count_param(spec, "fc_node", 0, 127);
    if (fc) out.emplace_back(fc, "fc");
    const int first = count_param(spec, "esc_first_node", 1, 127), escs = count_param(spec, "escs", 0, 20);
    if (first + escs - 1 > 127) throw std::invalid_argument(fmt::format("step '{}': ESC node ids run past 127", spec.id));
    for (int i = 0; i < escs; ++i) out.emplace_back(first + i, fmt::format("esc{}", i + 1));
    return out;
}

}  // namespace

const StepKind can_nodes_kind{
    .schema = {"can.nodes", 8s,
               {{"fc_node", 0.0, 0, 127, true}, {"esc_first_node", 20.0, 1, 127, true}, {"escs", 4.0, 0, 20, true}, {"listen_ms", 3000.0, 100, 30000, true}},
               {{"nodes_missing", false, ""},
                {"nodes_other", false, "", false},
                {"health", false, ""},
                {"mode", false, ""},
                {"fc_name", false, ""},
                {"fc_software", false, ""},
                {"esc_name", false, ""},
                {"esc_software", false, ""},
                {"esc_hardware", false, "", false},
                {"esc_unique_id", false, "", false}}},
    .run = can_nodes};

StepResult can_nodes(Context& ctx, const plan::StepSpec& spec) {
    auto bus = bus_of(ctx);
    if (!bus) co_return bus.error();
    const auto expected = expected_nodes(spec);
    const auto listen = milliseconds(static_cast<long>(spec.number("listen_ms")));
    // A node counts only when heard after the step began: the previous unit's nodes are still
    // listed as online for 3 s after its power-off.
    const auto since = steady_clock::now();
    std::vector<devices::CanNodeStatus> heard;
    std::vector<int> missing;
    for (const auto until = since + listen;;) {
        auto h = (*bus)->nodes_heard_since(since);
        if (!h) co_return h.error();
        heard = std::move(*h);
        missing.clear();
        for (const auto& [id, role] : expected)
            if (std::none_of(heard.begin(), heard.end(), [id = id](const auto& n) { return n.node == id; })) missing.push_back(id);
        if (missing.empty() || steady_clock::now() >= until) break;
        if (auto s = co_await ctx.sleep(milliseconds(100)); !s) co_return s.error();
    }
    sequencer::StepOutput out;
    out.push_back(text("nodes_missing", join(missing)));
    std::vector<int> other;
    for (const auto& n : heard)
        if (std::none_of(expected.begin(), expected.end(), [&](const auto& e) { return e.first == n.node; })) other.push_back(n.node);
    out.push_back(recorded_text("nodes_other", join(other)));
    for (const auto& [id, role] : expected) {
        auto it = std::find_if(heard.begin(), heard.end(), [id = id](const auto& n) { return n.node == id; });
        if (it == heard.end()) continue;  // named in nodes_missing; nothing is claimed for it
        out.push_back(text(fmt::format("node{}.health", id), it->health, "health"));
        out.push_back(text(fmt::format("node{}.mode", id), it->mode, "mode"));
        auto info = co_await (*bus)->node_info(id);
        if (!info) co_return info.error();
        if (role == "fc") {
            out.push_back(text("fc.name", info->name, "fc_name"));
            out.push_back(text("fc.software", info->software, "fc_software"));
            continue;
        }
        out.push_back(text(role + ".name", info->name, "esc_name"));
        out.push_back(text(role + ".software", info->software, "esc_software"));
        out.push_back(recorded_text(role + ".hardware", info->hardware, "esc_hardware"));
        out.push_back(recorded_text(role + ".unique_id", info->unique_id, "esc_unique_id"));
        ctx.dut.parts.push_back({role, info->unique_id, info->name, info->software, info->hardware});
    }
    co_return out;
}

const StepKind esc_spin_kind{
    .schema = {"esc.spin", 20s,
               {{"escs", 4.0, 1, 20, true},
                {"throttle_pct", 30.0, 1, 100},
                {"spin_up_ms", 700.0, 0, 30000, true},
                {"samples", 5.0, 1, 1000, true},
                {"command", std::string("fc")}},
               {{"rpm", true, "rpm"},
                {"rpm_spread", true, "%"},
                {"current", true, "A"},
                {"voltage", true, "V"},
                {"temperature", true, "degC"},
                {"errors", true, ""}}},
    .run = esc_spin};

StepResult esc_spin(Context& ctx, const plan::StepSpec& spec) {
    auto bus = bus_of(ctx);
    if (!bus) co_return bus.error();
    const int escs = count_param(spec, "escs", 1, 20);
    const int samples = count_param(spec, "samples", 1, 1000);
    const double throttle_pct = spec.number("throttle_pct");
    const auto spin_up = milliseconds(static_cast<long>(spec.number("spin_up_ms")));
    const std::string command = spec.text("command");
    if (command != "fc" && command != "direct")
        throw std::invalid_argument(fmt::format("step '{}': command '{}': expected \"fc\" (the FC's motor test) or \"direct\" (esc.RawCommand from rig)",
                                                spec.id, command));
    const bool direct = command == "direct";
    if (!direct && escs > ctx.fc.max_motors())
        throw std::invalid_argument(fmt::format("step '{}': escs {} but the FC drives at most {} motors", spec.id, escs, ctx.fc.max_motors()));
    constexpr auto kFresh = milliseconds(300);  // esc.Status comes at >= 10 Hz from a powered ESC

    sequencer::StepOutput out;
    std::vector<double> rpms;
    for (int e = 0; e < escs; ++e) {
        auto before = (*bus)->esc_status(e, kFresh);
        if (!before) co_return before.error();
        // (No co_await inside ?: — g++ 12 destroys its temporaries twice.)
        Result<void> spun;
        if (direct) spun = co_await (*bus)->spin(e, throttle_pct);
        else spun = co_await ctx.fc.spin_motor(e, throttle_pct);
        if (!spun) co_return spun.error();
        if (auto s = co_await ctx.sleep(spin_up); !s) co_return s.error();
        std::vector<double> rpm, amps, volts, temps;
        double errors_at_end = before->error_count;
        for (int i = 0; i < samples; ++i) {
            auto t = (*bus)->esc_status(e, kFresh);
            if (!t) co_return t.error();
            rpm.push_back(t->rpm);
            amps.push_back(t->current_a);
            volts.push_back(t->voltage_v);
            temps.push_back(t->temperature_c);
            errors_at_end = t->error_count;
            if (auto s = co_await ctx.sleep(milliseconds(40)); !s) co_return s.error();
        }
        // The sequencer's safe state stops both on every other way out of this step.
        Result<void> stopped;
        if (direct) stopped = co_await (*bus)->stop();
        else stopped = co_await ctx.fc.stop_motors();
        if (!stopped) co_return stopped.error();
        const auto esc = fmt::format("esc{}", e + 1);
        rpms.push_back(stats(rpm).mean);
        out.push_back(number(esc + ".rpm", rpms.back(), "rpm", "rpm"));
        out.push_back(number(esc + ".current", stats(amps).mean, "A", "current"));
        out.push_back(number(esc + ".voltage", stats(volts).mean, "V", "voltage"));
        out.push_back(number(esc + ".temperature", stats(temps).max, "degC", "temperature"));
        out.push_back(number(esc + ".errors", errors_at_end - before->error_count, "", "errors"));
        if (auto s = co_await ctx.sleep(milliseconds(200)); !s) co_return s.error();
    }
    out.push_back(number("rpm_spread", spread_pct(rpms), "%"));
    co_return out;
}

}  // namespace rig::steps
