// One nest's bench instruments ([instruments.*]): opened at start, opened again before a unit
// when one was lost, and shared with the other nests of a rigd through its link pool.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <vector>

#include "reports/certificate.hpp"
#include "rig/devices/scpi_instruments.hpp"
#include "rig/station/jigfile.hpp"

namespace rig::station {

namespace asio = boost::asio;

class NestInstruments {
public:
    // `pool`: rigd's, shared by its nests (null: this nest's instruments are its own).
    NestInstruments(const JigFile& jig, devices::RunControl& control, devices::Log log, devices::ScpiLinkPool* pool)
        : jig_(jig), control_(control), log_(std::move(log)), pool_(pool) {}
    // Every instrument the jig file names (only_lost: those that are not open and alive).
    asio::awaitable<Result<void>> open(asio::any_io_executor ex, bool only_lost);
    void close();
    std::vector<reports::Instrument> identities() const;  // for the certificate
    int inrush_window_ms() const;                          // 0 without a supply
    std::string missing() const;                           // the first one not open, as a sentence; "" if none

    std::unique_ptr<devices::ScpiPsu> psu;
    std::unique_ptr<devices::ScpiRfMeter> rf;
    std::unique_ptr<devices::ScpiDmm> dmm;

private:
    template <class Driver>
    asio::awaitable<Result<bool>> open_one(asio::any_io_executor ex, const devices::InstrumentConfig& c, bool only_lost, std::unique_ptr<Driver>& into);
    const JigFile& jig_;
    devices::RunControl& control_;
    devices::Log log_;
    devices::ScpiLinkPool* pool_;
};

}  // namespace rig::station
