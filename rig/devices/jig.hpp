// The jig controller (protocols/jig): DUT power, supply measurement, lid, barcode, stack light.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <thread>

#include "protocols/jig/client.hpp"
#include "rig/devices/capabilities.hpp"
#include "rig/io/pump.hpp"

namespace rig::devices {

namespace asio = boost::asio;

struct JigStatus {
    bool dut_power = false, lid_closed = false, dut_present = false, watchdog_tripped = false;
};

class Jig final : public SupplyMeter {
public:
    static constexpr std::chrono::milliseconds kTimeout{300};
    // Every command but BUZZER is sent again once when its reply is overdue: the protocol drops
    // a damaged frame silently and leaves the retry to the host. Each retry is logged
    // (event=jig_retry); a jig that needs them often shows in the station log, not as a failure.
    static constexpr int kAttempts = 2;
    static constexpr std::chrono::milliseconds kHeartbeatPeriod{100};

    Jig(asio::any_io_executor ex, std::unique_ptr<io::Stream> stream, const RunControl& control, io::Pump::Log log = {});
    ~Jig();

    asio::awaitable<Result<jig::Identity>> identify();
    asio::awaitable<Result<JigStatus>> heartbeat();
    asio::awaitable<Result<JigStatus>> set_dut_power(bool on);
    asio::awaitable<Result<Supply>> read_supply() override;
    asio::awaitable<Result<JigStatus>> read_lid();
    asio::awaitable<Result<std::string>> read_barcode();
    asio::awaitable<Result<void>> set_stack_light(std::uint8_t lamps);
    asio::awaitable<Result<void>> buzzer(std::chrono::milliseconds duration);
    // The jig's next STATUS_CHANGED event (lid, DUT presence or power changed) within
    // `timeout`: a completion, not a poll. A timeout error when none came.
    asio::awaitable<Result<JigStatus>> status_event(std::chrono::milliseconds timeout);
    // Ends a pending status_event() at once with `reason` (shutdown).
    void interrupt_waits(const std::string& reason);

    // Sends HEARTBEAT whenever the link has been quiet for kHeartbeatPeriod, until
    // stop_keepalive(), and reports every answer (or the failure to get one) to on_status: the
    // station aborts the test when the lid opens, the jig cut power, or the jig stops answering.
    // Stops answering: kHeartbeatMisses HEARTBEATs in a row unanswered within kTimeout (600 ms;
    // had our requests not reached it, the jig's watchdog cut DUT power at 500 ms and its next
    // answer says so), or the link lost (at once). One unanswered is a frame lost on the wire.
    static constexpr int kHeartbeatMisses = 2;
    void start_keepalive(std::function<void(const Result<JigStatus>&)> on_status);
    void stop_keepalive();
    const std::string& port() const { return pump_.name(); }

    // Teardown path: ignores step deadline and abort.
    asio::awaitable<Result<JigStatus>> force_power_off();

    // The backup heartbeat: a thread of its own sends HEARTBEAT every kHeartbeatPeriod while
    // the link is otherwise quiet, so a stalled io thread (a hypervisor steal burst, a slow
    // kernel read) does not let the jig's 500 ms watchdog cut a good unit. It stops once the io
    // thread has not ticked for kIoStallLimit, so a truly hung rigd still has DUT power cut
    // within kIoStallLimit + the jig's 500 ms watchdog (+ one period): at most 1.6 s.
    static constexpr std::chrono::milliseconds kIoStallLimit{1000};
    void start_backup_heartbeat();
    void stop_backup_heartbeat();

private:
    asio::awaitable<Result<Bytes>> transact(jig::Command cmd, Bytes payload, bool ignore_control);
    const RunControl& control_;
    jig::Client client_;
    io::Pump pump_;  // after client_: destroyed first
    std::function<void(const Result<JigStatus>&)> on_status_;
    int heartbeat_misses_ = 0;  // HEARTBEATs unanswered in a row
    struct Backup;
    std::shared_ptr<Backup> backup_;
    void io_tick();  // the io thread is alive and a request may have gone out
};

JigStatus decode_status(std::uint8_t s);

}  // namespace rig::devices
