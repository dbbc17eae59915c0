// radio.link and radio.failsafe: the jig's reference transmitter drives the drone's receiver;
// the channels are read back from the flight controller.
#include <cmath>
#include <fmt/format.h>

#include "rig/steps/measure.hpp"
#include "rig/steps/steps.hpp"

namespace rig::steps {

using namespace std::chrono;

namespace {

Result<devices::RadioTransmitter*> radio_of(Context& ctx) {
    if (!ctx.radio) return make_error(Errc::invalid_argument, "this jig has no reference transmitter ([devices.radio] in the jig file)");
    return ctx.radio;
}

// The largest |FC channel - sent channel| over the first `channels`; NaN when the FC sees
// fewer channels or is in failsafe (nothing it reports then is the transmitter's).
double channel_error(const devices::RcInput& in, const std::vector<double>& sent) {
    if (in.failsafe || in.channels_us.size() < sent.size()) return std::nan("");
    double worst = 0;
    for (std::size_t i = 0; i < sent.size(); ++i) worst = std::max(worst, std::abs(in.channels_us[i] - sent[i]));
    return worst;
}

// Polls the FC until its failsafe state equals `want`; the time it took, or NaN after `limit`.
asio::awaitable<Result<double>> time_until_failsafe(Context& ctx, bool want, milliseconds limit, milliseconds period) {
    const auto t0 = steady_clock::now();
    for (;;) {
        auto in = co_await ctx.fc.rc_input();
        if (!in) co_return in.error();
        const auto elapsed = duration<double, std::milli>(steady_clock::now() - t0).count();
        if (in->failsafe == want) co_return elapsed;
        if (elapsed > limit.count()) co_return std::nan("");
        if (auto s = co_await ctx.sleep(period); !s) co_return s.error();
    }
}

}  // namespace

// rssi is judged per antenna (rssi1, rssi2 against the one limit 'rssi').
const StepKind radio_link_kind{
    .schema = {"radio.link", 10s,
               {{"channels", 8.0, 1, 16, true}, {"samples", 10.0, 1, 1000, true}, {"settle_ms", 500.0, 0, 60000, true}},
               {{"channel_error", true, "us"}, {"link_quality", true, "%"}, {"rssi", true, "dBm"}, {"snr", true, "dB"},
                {"downlink_link_quality", true, "%"}, {"receiver", false, ""}, {"receiver_serial", false, ""},
                {"downlink_rssi", true, "dBm", false}, {"tx_power", true, "mW", false}}},
    .run = radio_link};

StepResult radio_link(Context& ctx, const plan::StepSpec& spec) {
    auto radio = radio_of(ctx);
    if (!radio) co_return radio.error();
    const int channels = count_param(spec, "channels", 1, 16);
    const int samples = count_param(spec, "samples", 1, 1000);
    const auto settle = milliseconds(count_param(spec, "settle_ms", 0, 60000));
    const auto sent = rc_pattern(channels);
    if (auto r = co_await (*radio)->stream(sent); !r) co_return r.error();
    if (auto s = co_await ctx.sleep(settle); !s) co_return s.error();

    std::vector<double> errors;
    for (int i = 0; i < samples; ++i) {
        auto in = co_await ctx.fc.rc_input();
        if (!in) co_return in.error();
        errors.push_back(channel_error(*in, sent));
        if (auto s = co_await ctx.sleep(milliseconds(20)); !s) co_return s.error();
    }
    double worst = 0;
    for (double e : errors) worst = std::isnan(e) || std::isnan(worst) ? std::nan("") : std::max(worst, e);
    auto link = co_await (*radio)->link_statistics(milliseconds(1000));
    if (!link) co_return link.error();
    auto rx = co_await (*radio)->receiver_info();
    (*radio)->stop_stream();

    sequencer::StepOutput out;
    out.push_back(number("channel_error", worst, "us"));
    out.push_back(number("link_quality", link->link_quality_pct, "%"));
    out.push_back(number("rssi1", link->rssi1_dbm, "dBm", "rssi"));
    out.push_back(number("rssi2", link->rssi2_dbm, "dBm", "rssi"));
    out.push_back(number("snr", link->snr_db, "dB"));
    out.push_back(number("downlink_link_quality", link->downlink_link_quality_pct, "%"));
    out.push_back(recorded("downlink_rssi", link->downlink_rssi_dbm, "dBm"));
    out.push_back(recorded("tx_power", link->tx_power_mw, "mW"));
    // Who answered through the link is recorded; a receiver that does not answer a ping is
    // recorded as such (the link figures above judge it).
    out.push_back(text("receiver", rx ? fmt::format("{} {}", rx->name, rx->firmware) : "(no answer: " + rx.error().message + ")"));
    out.push_back(text("receiver_serial", rx ? rx->serial : ""));
    co_return out;
}

const StepKind radio_failsafe_kind{
    .schema = {"radio.failsafe", 10s,
               {{"max_wait_ms", 3000.0, 100, 60000, true}, {"period_ms", 20.0, 5, 1000, true}},
               {{"failsafe_ms", true, "ms"}, {"recovery_ms", true, "ms"}}},
    .run = radio_failsafe};

StepResult radio_failsafe(Context& ctx, const plan::StepSpec& spec) {
    auto radio = radio_of(ctx);
    if (!radio) co_return radio.error();
    const auto wait_max = milliseconds(count_param(spec, "max_wait_ms", 100, 60000));
    const auto period = milliseconds(count_param(spec, "period_ms", 5, 1000));
    const auto sent = rc_pattern(8);
    if (auto r = co_await (*radio)->stream(sent); !r) co_return r.error();
    // The link must be up before it can be lost.
    auto up = co_await time_until_failsafe(ctx, false, wait_max, period);
    if (!up) co_return up.error();
    if (std::isnan(*up)) {
        (*radio)->stop_stream();
        co_return make_error(Errc::protocol_error, fmt::format("{}: the flight controller stays in failsafe with the transmitter on", ctx.fc.port()));
    }
    (*radio)->stop_stream();
    auto lost = co_await time_until_failsafe(ctx, true, wait_max, period);
    if (!lost) co_return lost.error();
    if (auto r = co_await (*radio)->stream(sent); !r) co_return r.error();
    auto back = co_await time_until_failsafe(ctx, false, wait_max, period);
    (*radio)->stop_stream();
    if (!back) co_return back.error();
    sequencer::StepOutput out;
    out.push_back(number("failsafe_ms", *lost, "ms"));
    out.push_back(number("recovery_ms", *back, "ms"));
    co_return out;
}

}  // namespace rig::steps
