// Bench instruments over SCPI (a raw socket on port 5025, or a serial line): a programmable
// supply, an RF power meter and a DMM behind their capabilities. Opening one checks *IDN?
// against the jig file's model, configures it and reads SYST:ERR? until the queue is empty:
// an instrument that is not the one described, or that refused a setting, is never used.
// Every message names the instrument and its port.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "protocols/scpi/client.hpp"
#include "rig/devices/capabilities.hpp"
#include "rig/devices/instrument_config.hpp"
#include "rig/io/pump.hpp"

namespace rig::devices {

using Log = std::function<void(const std::string&)>;

// One SCPI instrument on one stream: queries bounded by the running step (or not, on teardown),
// and the error queue read after every configuration.
class ScpiLink {
public:
    static constexpr std::chrono::milliseconds kQueryTimeout{1000};

    ScpiLink(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, std::string name, const RunControl& control, Log log);
    // "psu (tcp:127.0.0.1:5025)": the prefix of every error.
    const std::string& who() const { return who_; }
    const std::string& port() const { return pump_.name(); }
    std::string lost() const { return pump_.lost(); }

    // `bounded`: cut to the step's budget and refused on abort; teardown passes false.
    asio::awaitable<Result<std::string>> query(std::string text, std::chrono::milliseconds timeout = kQueryTimeout, bool bounded = true);
    asio::awaitable<Result<double>> query_number(std::string text, std::chrono::milliseconds timeout = kQueryTimeout, bool bounded = true);
    asio::awaitable<Result<void>> command(std::string text, bool bounded = true);
    // Sends each command, then reads SYST:ERR? until it says 0: the first error names the
    // commands it followed.
    asio::awaitable<Result<void>> configure(const std::vector<std::string>& commands, bool bounded = true);
    // *IDN? against the expected model (case-insensitive).
    asio::awaitable<Result<scpi::Identity>> identify(const std::string& expected_model);

private:
    asio::awaitable<Result<Bytes>> call(session::RequestId id);
    const RunControl& control_;
    std::string who_;
    scpi::Client client_;
    io::Pump pump_;  // after client_: destroyed first
};

// Opens a port and the instrument on it, per the jig file; checks identity and configuration.
asio::awaitable<Result<std::unique_ptr<ScpiLink>>> open_scpi(asio::any_io_executor ex, const InstrumentConfig& cfg, const RunControl& control,
                                                             Log log, InstrumentIdentity& identity);

// What every SCPI instrument driver holds: its link and who it said it is.
class ScpiInstrument {
public:
    const InstrumentIdentity& identity() const { return id_; }
    bool lost() const { return !link_->lost().empty(); }

protected:
    ScpiInstrument(std::unique_ptr<ScpiLink> link, InstrumentIdentity id) : link_(std::move(link)), id_(std::move(id)) {}
    std::unique_ptr<ScpiLink> link_;
    InstrumentIdentity id_;
};

class ScpiPsu final : public PowerSupply, public ScpiInstrument {
public:
    static asio::awaitable<Result<std::unique_ptr<ScpiPsu>>> open(asio::any_io_executor ex, const InstrumentConfig& cfg, const RunControl& control,
                                                                  Log log);
    ScpiPsu(std::unique_ptr<ScpiLink> link, InstrumentConfig cfg, InstrumentIdentity id);
    const std::string& port() const override { return link_->port(); }
    asio::awaitable<Result<void>> output(bool on) override;
    asio::awaitable<Result<PsuReading>> measure() override;
    asio::awaitable<Result<Inrush>> capture_inrush(std::chrono::milliseconds window) override;
    Result<Inrush> inrush() const override;
    asio::awaitable<Result<std::string>> protection_tripped() override;

private:
    InstrumentConfig cfg_;
    std::optional<Inrush> inrush_;
};

class ScpiRfMeter final : public RfPowerMeter, public ScpiInstrument {
public:
    static asio::awaitable<Result<std::unique_ptr<ScpiRfMeter>>> open(asio::any_io_executor ex, const InstrumentConfig& cfg,
                                                                      const RunControl& control, Log log);
    ScpiRfMeter(std::unique_ptr<ScpiLink> link, InstrumentIdentity id);
    const std::string& port() const override { return link_->port(); }
    asio::awaitable<Result<double>> read_dbm(double frequency_hz) override;

private:
    double frequency_hz_ = 0;  // as last set: SENS:FREQ is sent only when it changes
};

class ScpiDmm final : public Multimeter, public ScpiInstrument {
public:
    static asio::awaitable<Result<std::unique_ptr<ScpiDmm>>> open(asio::any_io_executor ex, const InstrumentConfig& cfg, const RunControl& control,
                                                                  Log log);
    ScpiDmm(std::unique_ptr<ScpiLink> link, InstrumentIdentity id);
    const std::string& port() const override { return link_->port(); }
    asio::awaitable<Result<double>> measure(Quantity q) override;
};

}  // namespace rig::devices
