#include "rig/devices/crsf_tx.hpp"

#include <fmt/format.h>

namespace rig::devices {

using namespace std::chrono;

CrsfTransmitter::CrsfTransmitter(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, Log log)
    : pump_(ex, std::move(stream), handset_, std::move(log)) {}

asio::awaitable<Result<void>> CrsfTransmitter::stream(std::vector<double> channels_us) {
    if (!pump_.lost().empty()) co_return make_error(Errc::io_error, pump_.lost());
    std::array<std::uint16_t, 16> ticks;
    ticks.fill(crsf::us_to_ticks(1500));
    for (std::size_t i = 0; i < channels_us.size() && i < ticks.size(); ++i) ticks[i] = crsf::us_to_ticks(channels_us[i]);
    handset_.channels(ticks);
    pump_.kick();
    co_return Result<void>{};
}

void CrsfTransmitter::stop_stream() {
    handset_.channels(std::nullopt);
    pump_.kick();
}

asio::awaitable<Result<LinkStats>> CrsfTransmitter::link_statistics(milliseconds max_age) {
    const auto now = steady_clock::now();
    auto payload = co_await pump_.wait(handset_.link_statistics(now - max_age, max_age, now));
    if (!payload) co_return make_error(payload.error().code, port() + ": " + payload.error().message);
    auto s = crsf::LinkStatistics::decode(*payload);
    if (!s) co_return make_error(s.error().code, port() + ": " + s.error().message);
    LinkStats out;
    out.rssi1_dbm = -static_cast<double>(s->uplink_rssi1_neg_dbm);
    out.rssi2_dbm = -static_cast<double>(s->uplink_rssi2_neg_dbm);
    out.link_quality_pct = s->uplink_lq_pct;
    out.snr_db = s->uplink_snr_db;
    out.downlink_rssi_dbm = -static_cast<double>(s->downlink_rssi_neg_dbm);
    out.downlink_link_quality_pct = s->downlink_lq_pct;
    out.tx_power_mw = s->uplink_tx_power_mw();
    co_return out;
}

asio::awaitable<Result<ReceiverInfo>> CrsfTransmitter::receiver_info() {
    auto payload = co_await pump_.wait(handset_.ping(crsf::addr::receiver, {milliseconds(300), 3}, steady_clock::now()));
    if (!payload) co_return make_error(payload.error().code, port() + ": " + payload.error().message);
    auto d = crsf::DeviceInfo::decode(*payload);
    if (!d) co_return make_error(d.error().code, port() + ": " + d.error().message);
    // ExpressLRS puts its version in firmware_id as 0x00MMmmpp.
    co_return ReceiverInfo{d->name, fmt::format("{}.{}.{}", (d->firmware_id >> 16) & 0xFF, (d->firmware_id >> 8) & 0xFF, d->firmware_id & 0xFF),
                           fmt::format("{:08x}", d->serial)};
}

}  // namespace rig::devices
