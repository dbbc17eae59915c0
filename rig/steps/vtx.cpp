// vtx.power: the drone's video transmitter set through its flight controller to each power
// level the variant lists (and to further channels), its RF output read by the jig's RF power
// meter at the channel's frequency, and judged in dB against each level's label.
#include <cmath>
#include <fmt/format.h>

#include "rig/steps/measure.hpp"
#include "rig/steps/steps.hpp"

namespace rig::steps {

using namespace std::chrono;

const StepKind vtx_power_kind{
    .schema = {"vtx.power", 15s,
               {{"band", 5.0, 1, 8, true},
                {"channel", 1.0, 1, 8, true},
                {"levels", std::string("1"), 0, 0, false},     // VTX table power indices, e.g. "1,3,5"
                {"level_mw", std::string("25"), 0, 0, false},  // each level's label in mW, e.g. "25,200,600"
                {"channels", std::string(""), 0, 0, false},    // more channels of the band, checked at the first level
                {"settle_ms", 300.0, 0, 10000, true}},
               {{"power_error", true, "dB"},
                {"channel_power_error", true, "dB"},
                {"power", true, "dBm", false},
                {"frequency", true, "MHz", false},
                {"vtx_device", false, "", false}}},
    .run = vtx_power};

namespace {

struct Reading {
    double dbm = 0, frequency_mhz = 0;
};

// Sets the VTX, waits for it to settle (SmartAudio and Tramp apply a change over a slow UART),
// and reads the meter at the frequency the FC reports for that channel.
asio::awaitable<Result<Reading>> measure_at(Context& ctx, int band, int channel, int level, milliseconds settle) {
    if (auto r = co_await ctx.vtx->set_vtx(band, channel, level, false); !r) co_return r.error();
    if (auto s = co_await ctx.sleep(settle); !s) co_return s.error();
    auto state = co_await ctx.vtx->vtx_state();
    if (!state) co_return state.error();
    if (state->band != band || state->channel != channel || state->power_index != level || state->pit_mode)
        co_return make_error(Errc::protocol_error, fmt::format("VTX reports band {} channel {} power {}{} after being set to band {} channel {} power {}",
                                                               state->band, state->channel, state->power_index, state->pit_mode ? " (pit mode)" : "",
                                                               band, channel, level));
    if (!(state->frequency_mhz > 0))
        co_return make_error(Errc::protocol_error, fmt::format("VTX reports no frequency for band {} channel {}", band, channel));
    auto dbm = co_await ctx.rf->read_dbm(state->frequency_mhz * 1e6);
    if (!dbm) co_return dbm.error();
    co_return Reading{*dbm, state->frequency_mhz};
}

}  // namespace

StepResult vtx_power(Context& ctx, const plan::StepSpec& spec) {
    if (!ctx.vtx) co_return make_error(Errc::invalid_argument, "this flight controller drives no VTX over its protocol (vtx.power needs MSP)");
    if (!ctx.rf) co_return make_error(Errc::invalid_argument, "this jig has no RF power meter ([instruments.*] type = \"rf_power_meter\")");
    const int band = count_param(spec, "band", 1, 8), channel = count_param(spec, "channel", 1, 8);
    const auto levels = int_list_param(spec, "levels", 1, 255);
    const auto labels = number_list_param(spec, "level_mw", 0.001, 100000);
    const auto channels = int_list_param(spec, "channels", 1, 8, true);
    if (labels.size() != levels.size())
        co_return make_error(Errc::invalid_argument, fmt::format("step '{}': {} levels but {} level_mw labels", spec.id, levels.size(), labels.size()));
    const auto settle = milliseconds(static_cast<long>(spec.number("settle_ms")));

    auto state = co_await ctx.vtx->vtx_state();
    if (!state) co_return state.error();
    if (!state->ready) co_return make_error(Errc::protocol_error, fmt::format("VTX ({}) not ready", state->device));
    if (state->power_levels == 0) co_return make_error(Errc::protocol_error, fmt::format("VTX ({}) has no VTX table loaded", state->device));
    sequencer::StepOutput out;
    out.push_back(recorded_text("vtx_device", state->device));
    for (int level : levels)
        if (level > state->power_levels)
            co_return make_error(Errc::invalid_argument, fmt::format("step '{}': power level {} but the VTX table has {}", spec.id, level, state->power_levels));

    for (std::size_t i = 0; i < levels.size(); ++i) {
        auto r = co_await measure_at(ctx, band, channel, levels[i], settle);
        if (!r) co_return r.error();
        const auto tag = fmt::format("L{}", levels[i]);
        out.push_back(recorded(fmt::format("power_{}", tag), r->dbm, "dBm", "power"));
        out.push_back(number(fmt::format("power_error_{}", tag), r->dbm - 10 * std::log10(labels[i]), "dB", "power_error"));
        if (i == 0) out.push_back(recorded(fmt::format("frequency_ch{}", channel), r->frequency_mhz, "MHz", "frequency"));
    }
    // A VTX stuck on one channel radiates its full power there and nothing where it was sent.
    for (int ch : channels) {
        auto r = co_await measure_at(ctx, band, ch, levels.front(), settle);
        if (!r) co_return r.error();
        out.push_back(recorded(fmt::format("frequency_ch{}", ch), r->frequency_mhz, "MHz", "frequency"));
        out.push_back(number(fmt::format("channel_power_error_ch{}", ch), r->dbm - 10 * std::log10(labels.front()), "dB", "channel_power_error"));
    }
    co_return out;
}

}  // namespace rig::steps
