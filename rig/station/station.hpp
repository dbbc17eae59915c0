// One jig's lifecycle: wait for a unit, test it, certify it, show the verdict, wait for unload.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "reports/dsse.hpp"
#include "rig/archive/ledger.hpp"
#include "rig/archive/writer.hpp"
#include "rig/plan/plan.hpp"
#include "rig/station/jigfile.hpp"
#include "rig/station/nest_view.hpp"

namespace rig::devices {
class ScpiLinkPool;
}

namespace rig::station {

namespace asio = boost::asio;

struct Config {
    JigFile jig;
    plan::Plan plan;
    std::string operator_id = "unknown";
    std::string software_version;
    int max_units = 0;  // 0: run until shut down
    bool name_in_output = false;  // one of several nests: its operator lines start with "STATION: "
    devices::ScpiLinkPool* instrument_pool = nullptr;  // rigd's, shared by its nests: one link per instrument
    EventSink on_event;  // state changes, steps, certified verdicts (on the io thread)
};

class Station {
public:
    // The ledger signs and commits; its commits run on the writer's thread (one for all the
    // nests of a rigd, with group commit), never the io thread.
    Station(Config config, archive::Ledger& ledger, archive::Writer& writer);
    ~Station();
    // Runs until max_units have a verdict or shutdown() is called. Errors are start-up failures
    // (a port that cannot be opened, a jig that does not answer), another fixture answering on
    // the jig's port, and a certificate that cannot be committed. A jig lost later is waited for.
    asio::awaitable<Result<Totals>> run();
    // SIGTERM or SIGINT: abort the unit under test (teardown runs, no certificate) and stop.
    void shutdown(const std::string& reason);  // on the io thread (rigd calls it from its signal_set)
    // Out of service (maintenance, calibration): the unit under test finishes and is unloaded,
    // then the nest takes no unit until it is back in service. On the io thread.
    void set_out_of_service(bool out, const std::string& reason);
    // "idle", "testing SERIAL", "jig lost (WHY)", "out of service (REASON)", "stopping", with the totals so far.
    std::string status() const;
    NestView view() const;
    std::vector<std::string> recent_log() const;  // its last 200 log lines, oldest first, each with its UTC time

    // The operator's requests (the page, the API, a scanner), on the io thread. Each is refused
    // with Errc::invalid_argument (a barcode that is no serial of the variant) or
    // Errc::cancelled (the nest's state does not allow it), with a message for the operator.
    // A scan names the next unit; one that came from the jig's reader is replaced by it.
    Result<void> scan(const std::string& serial);
    // Starts the test of the unit in the nest: only with the lid closed on a unit.
    Result<void> start();
    // Aborts the unit under test (teardown runs, no certificate), or drops a scan not yet tested.
    Result<void> abort(const std::string& who);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace rig::station
