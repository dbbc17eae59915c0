#include "rig/station/instruments.hpp"

#include <fmt/format.h>

#include "rig/io/usb.hpp"

namespace rig::station {

using namespace std::chrono;

namespace {
constexpr auto kUsbReturn = milliseconds(2000);  // a reset USB instrument re-enumerates within ~1 s
}

asio::awaitable<Result<void>> NestInstruments::open(asio::any_io_executor ex, bool only_lost) {
    for (const auto& c : jig_.instruments) {
        Result<bool> r = false;
        if (c.type == "psu") r = co_await open_one(ex, c, only_lost, psu);
        else if (c.type == "rf_power_meter") r = co_await open_one(ex, c, only_lost, rf);
        else if (c.type == "dmm") r = co_await open_one(ex, c, only_lost, dmm);
        if (!r) co_return r.error();
        if (*r) log_(fmt::format("event=instrument_ready name={} port={}", c.name, c.port));
    }
    co_return Result<void>{};
}

// Opens one instrument into `into` (unless only_lost and it is there and alive): true when opened.
template <class Driver>
asio::awaitable<Result<bool>> NestInstruments::open_one(asio::any_io_executor ex, const devices::InstrumentConfig& c, bool only_lost,
                                                        std::unique_ptr<Driver>& into) {
    if (only_lost && into && !into->lost()) co_return false;
    into.reset();
    auto d = co_await Driver::open(ex, c, control_, log_, pool_, jig_.station_id);
    // A USB instrument that left (unplugged, or reset and re-enumerating) is waited for, briefly.
    const auto uri = io::parse_uri(c.port);
    if (!d && only_lost && d.error().code == Errc::not_found && uri && uri->scheme == io::PortUri::Scheme::usbtmc) {
        (void)co_await io::usb_arrival(ex, *uri, kUsbReturn);  // (it may also have come back already)
        d = co_await Driver::open(ex, c, control_, log_, pool_, jig_.station_id);
    }
    if (!d) co_return d.error();
    into = std::move(*d);
    co_return true;
}

void NestInstruments::close() {
    psu.reset();
    rf.reset();
    dmm.reset();
}

std::vector<reports::Instrument> NestInstruments::identities() const {
    std::vector<reports::Instrument> out;
    auto add = [&](const devices::InstrumentIdentity& i) { out.push_back({i.name, i.type, i.vendor, i.model, i.serial, i.firmware, i.calibration_due}); };
    if (psu) add(psu->identity());
    if (rf) add(rf->identity());
    if (dmm) add(dmm->identity());
    return out;
}

int NestInstruments::inrush_window_ms() const {
    for (const auto& i : jig_.instruments)
        if (i.type == "psu") return i.inrush_window_ms;
    return 0;
}

std::string NestInstruments::missing() const {
    for (const auto& i : jig_.instruments)
        if ((i.type == "psu" && !psu) || (i.type == "rf_power_meter" && !rf) || (i.type == "dmm" && !dmm))
            return fmt::format("instrument {} on {} is not available", i.name, i.port);
    return "";
}

}  // namespace rig::station
