// fc.identity and fc.config: who the flight controller is and how it is configured.
#include <fmt/format.h>

#include "rig/steps/measure.hpp"
#include "rig/steps/steps.hpp"

namespace rig::steps {

using namespace std::chrono_literals;

const StepKind fc_identity_kind{
    .schema = {"fc.identity", 3s, {},
               {{"fc_variant", false, ""}, {"firmware", false, ""}, {"board", false, ""}, {"uid", false, ""},
                {"api_version", true, ""}, {"config_problems", true, ""}}},
    .run = fc_identity};

StepResult fc_identity(Context& ctx, const plan::StepSpec&) {
    // The FC boots right after DUT power-on: the step's deadline is its boot budget.
    if (auto ready = co_await ctx.fc.wait_ready(); !ready) co_return ready.error();
    auto id = co_await ctx.fc.identity();
    if (!id) co_return id.error();
    ctx.dut.firmware = fmt::format("{} {}", id->family, id->firmware);
    ctx.dut.board = id->board;
    ctx.dut.uid = id->uid;
    sequencer::StepOutput out;
    out.push_back(text("fc_variant", id->family));
    out.push_back(text("firmware", id->firmware));
    out.push_back(text("board", id->board));
    out.push_back(text("uid", id->uid));
    out.push_back(number("api_version", id->protocol_version, ""));
    if (id->config_problems) out.push_back(number("config_problems", *id->config_problems, ""));
    co_return out;
}

const StepKind fc_config_kind{
    .schema = {"fc.config", 10s, {}, {{"config_sha256", false, ""}, {"config_entries", true, ""}}},
    .run = fc_config};

StepResult fc_config(Context& ctx, const plan::StepSpec&) {
    auto snapshot = co_await ctx.fc.config();
    if (!snapshot) co_return snapshot.error();
    sequencer::StepOutput out;
    out.push_back(text("config_sha256", snapshot->sha256));
    out.push_back(number("config_entries", static_cast<double>(snapshot->entries), ""));
    co_return out;
}

}  // namespace rig::steps
