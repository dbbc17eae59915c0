// What a nest shows outside itself (the HTTP API, the operator page, /metrics): its state,
// the unit in it, the step under way and the last verdict. No Asio: the API's JSON and the
// page's tiles are built from these.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "reports/certificate.hpp"

namespace rig::station {

// A nest's lifecycle (ARCHITECTURE.md "station/"):
//   idle -> scanned -> loaded -> running -> verdict | aborted -> (lid opened) idle
// loaded: the lid is closed on a unit, waiting for its scan or for the operator's start.
// rejected: the unit was not tested (its barcode, an expired calibration, a missing
// instrument); like verdict and aborted it lasts until the unit is taken out.
enum class NestState { starting, idle, scanned, loaded, running, verdict, aborted, rejected, out_of_service, jig_lost, stopping, stopped };
const char* to_string(NestState s);
inline constexpr NestState kNestStates[] = {NestState::starting, NestState::idle,    NestState::scanned,  NestState::loaded,
                                            NestState::running,  NestState::verdict, NestState::aborted,  NestState::rejected,
                                            NestState::out_of_service, NestState::jig_lost, NestState::stopping, NestState::stopped};

// A certified verdict: shown only once its certificate is durable in the archive.
struct VerdictView {
    std::string serial;
    reports::Verdict verdict = reports::Verdict::error;
    std::uint64_t sequence = 0;
    std::string sha256, finished_at;
    std::string summary;  // the first failing or erroring step, as the operator line says it
    struct Failing {
        std::string step;
        reports::Measurement measurement;
    };
    std::vector<Failing> failing;  // every measurement outside its limits
    double commit_s = 0;  // signing and the durable commit, seconds
};

struct Totals {
    int tested = 0, passed = 0, failed = 0, errored = 0, aborted = 0, rejected = 0;
    int watchdog_trips = 0;  // the jig cut DUT power on its own (its watchdog or interlock)
    std::string exports_pending;  // certificate files still not written at shutdown (the archive holds them)
    std::string jig_lost;  // the jig was not answering when the nest stopped: why
};

struct NestView {
    std::string station, variant, lot, plan_sha256;
    // "jig" (its reader on the lid), "page" (the page's field, the API), or a scanner rig reads
    // itself: "serial:...", "usb-serial:...", "tcp:..." or "evdev:/dev/input/...".
    std::string scanner;
    std::string start;    // "lid" (closing the lid starts) or "operator" (the start request does)
    std::string serial_pattern;  // the variant's serial_regex (ECMAScript), empty: any barcode
    NestState state = NestState::starting;
    std::string detail;   // why: aborted, rejected, out of service, jig lost, waiting for a scan
    std::string serial;   // the unit in the nest: under test, or whose verdict is shown
    std::string scanned;  // a scan waiting for its unit (the next one loaded)
    std::string scan_notice;  // the scanner's last read refused or bad (why), until a scan is taken
    std::string scanner_problem;  // the nest's own scanner is lost or cannot be opened: why
    bool lid_closed = false, dut_present = false;
    struct Step {
        std::string id, kind;
        int index = 0, count = 0;  // 1-based
        double elapsed_s = 0, timeout_s = 0;
    };
    std::optional<Step> step;  // while running
    std::optional<VerdictView> last;  // the most recent certified verdict
    Totals totals;
};

// What a nest reports as it goes: "state" (the view changed), "step_started", "step_finished"
// (with its record: measurements and verdict), "verdict" (after the commit, with view.last).
struct NestEvent {
    std::string type;
    NestView view;
    const reports::StepRecord* step = nullptr;  // step_finished only
};
using EventSink = std::function<void(const NestEvent&)>;

}  // namespace rig::station
