// Bench instruments over SCPI (a raw socket on port 5025, or a serial line): a programmable
// supply, an RF power meter and a DMM behind their capabilities. Opening one checks *IDN?
// against the jig file's model, configures it and reads SYST:ERR? until the queue is empty:
// an instrument that is not the one described, or that refused a setting, is never used.
// Every message names the instrument and its port.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <map>
#include <memory>

#include "protocols/scpi/client.hpp"
#include "rig/devices/capabilities.hpp"
#include "rig/devices/instrument_config.hpp"
#include "rig/devices/instrument_lock.hpp"
#include "rig/io/pump.hpp"

namespace rig::devices {

using Log = std::function<void(const std::string&)>;

// One SCPI instrument on one stream: queries bounded by the running step (or not, on teardown),
// and the error queue read after every configuration. Nests that share the instrument share its
// link: each use holds the link's lock and binds the user's run control.
class ScpiLink {
public:
    static constexpr std::chrono::milliseconds kQueryTimeout{1000};

    ScpiLink(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, std::string name, const RunControl& control, Log log);
    // The user whose step bounds the queries from now on (the holder of the lock).
    void bind(const RunControl& control) { control_ = &control; }
    InstrumentLock& lock() { return lock_; }
    // Whose channel or switch path (and settings) the instrument is set up for now.
    const std::string& selected() const { return selected_; }
    void set_selected(std::string who) { selected_ = std::move(who); }
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
    const RunControl* control_;
    std::string who_;
    InstrumentLock lock_;
    std::string selected_;
    scpi::Client client_;
    io::Pump pump_;  // after client_: destroyed first
};

// Opens a port and the instrument on it, per the jig file; checks identity and configuration.
asio::awaitable<Result<std::unique_ptr<ScpiLink>>> open_scpi(asio::any_io_executor ex, const InstrumentConfig& cfg, const RunControl& control,
                                                             Log log, InstrumentIdentity& identity);

// The instruments of a rigd's nests by device: a second nest naming the same instrument gets
// the link the first one opened (one connection, one lock), not a connection of its own.
class ScpiLinkPool {
public:
    // The open link to cfg's instrument (identity checked against cfg's model), else a new one.
    asio::awaitable<Result<std::shared_ptr<ScpiLink>>> link(asio::any_io_executor ex, const InstrumentConfig& cfg, const RunControl& control,
                                                            Log log, InstrumentIdentity& identity);

private:
    struct Entry {
        std::weak_ptr<ScpiLink> link;
        InstrumentIdentity identity;
        std::unique_ptr<InstrumentLock> opening;  // one nest opens it; the others wait for that
    };
    std::map<std::string, Entry> entries_;  // by device (io::device_key)
};

// Who uses an instrument: the nest (its station id, in lock messages and as the selection's
// owner), its run control and its log. The pool is rigd's, shared by its nests; null: unshared.
struct InstrumentUser {
    std::string nest;
    RunControl& control;
    Log log;
    ScpiLinkPool* pool = nullptr;
};

// What every SCPI instrument driver holds: its link, who it said it is, and its user. Every
// use takes the link's lock; when another user had it last, this user's channel or switch path
// is selected and its settings sent again first.
class ScpiInstrument {
public:
    const InstrumentIdentity& identity() const { return id_; }
    bool lost() const { return !link_->lost().empty(); }

protected:
    ScpiInstrument(std::shared_ptr<ScpiLink> link, InstrumentIdentity id, InstrumentConfig cfg, InstrumentUser user);
    virtual ~ScpiInstrument() = default;
    // Opens the link for cfg, or joins the one the pool has open.
    static asio::awaitable<Result<std::shared_ptr<ScpiLink>>> join(asio::any_io_executor ex, const InstrumentConfig& cfg, InstrumentUser& user,
                                                                   InstrumentIdentity& id);
    // The lock for one use. `bounded`: a step's use (the wait ends on abort, counts as the step's
    // instrument wait and moves its deadline); teardown passes false. `first`: start-up commands
    // sent after select and before path_commands() (and the selection is made again).
    asio::awaitable<Result<InstrumentLock::Lease>> use(bool bounded = true, std::vector<std::string> first = {});
    // This user's settings on its path: sent after `select` whenever another user had the link.
    virtual std::vector<std::string> path_commands() const = 0;
    virtual void path_changed() {}  // instrument state cached by the driver is stale now

    std::shared_ptr<ScpiLink> link_;
    InstrumentIdentity id_;
    InstrumentConfig cfg_;
    InstrumentUser user_;
};

class ScpiPsu final : public PowerSupply, public ScpiInstrument {
public:
    static asio::awaitable<Result<std::unique_ptr<ScpiPsu>>> open(asio::any_io_executor ex, const InstrumentConfig& cfg, RunControl& control,
                                                                  Log log, ScpiLinkPool* pool = nullptr, std::string nest = "");
    ScpiPsu(std::shared_ptr<ScpiLink> link, InstrumentConfig cfg, InstrumentIdentity id, InstrumentUser user);
    const std::string& port() const override { return link_->port(); }
    asio::awaitable<Result<void>> output(bool on) override;
    asio::awaitable<Result<PsuReading>> measure() override;
    asio::awaitable<Result<Inrush>> capture_inrush(std::chrono::milliseconds window) override;
    Result<Inrush> inrush() const override;
    asio::awaitable<Result<std::string>> protection_tripped() override;

private:
    std::vector<std::string> path_commands() const override;
    std::optional<Inrush> inrush_;
};

class ScpiRfMeter final : public RfPowerMeter, public ScpiInstrument {
public:
    static asio::awaitable<Result<std::unique_ptr<ScpiRfMeter>>> open(asio::any_io_executor ex, const InstrumentConfig& cfg, RunControl& control,
                                                                      Log log, ScpiLinkPool* pool = nullptr, std::string nest = "");
    ScpiRfMeter(std::shared_ptr<ScpiLink> link, InstrumentConfig cfg, InstrumentIdentity id, InstrumentUser user);
    const std::string& port() const override { return link_->port(); }
    asio::awaitable<Result<double>> read_dbm(double frequency_hz) override;

private:
    std::vector<std::string> path_commands() const override;
    void path_changed() override { frequency_hz_ = 0; }
    double frequency_hz_ = 0;  // as last set: SENS:FREQ is sent only when it changes
};

class ScpiDmm final : public Multimeter, public ScpiInstrument {
public:
    static asio::awaitable<Result<std::unique_ptr<ScpiDmm>>> open(asio::any_io_executor ex, const InstrumentConfig& cfg, RunControl& control,
                                                                  Log log, ScpiLinkPool* pool = nullptr, std::string nest = "");
    ScpiDmm(std::shared_ptr<ScpiLink> link, InstrumentConfig cfg, InstrumentIdentity id, InstrumentUser user);
    const std::string& port() const override { return link_->port(); }
    asio::awaitable<Result<double>> measure(Quantity q) override;

private:
    std::vector<std::string> path_commands() const override { return {}; }
};

}  // namespace rig::devices
