// Runs a plan: each step under its timeout, measurements judged against limits, and the safe
// state restored after every step and at the end, whatever happened.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reports/certificate.hpp"
#include "rig/devices/control.hpp"
#include "rig/plan/plan.hpp"

namespace rig::sequencer {

namespace asio = boost::asio;
using reports::Verdict;

// One value a step measured. limit_key names the plan limit that judges it (empty: recorded
// only). Text measurements set is_text.
struct Measured {
    std::string name;
    std::string limit_key;
    double value = 0;
    std::string unit;
    std::string text;
    bool is_text = false;
    std::string declared;  // a recorded value's declared key, when not its name (esc1.unique_id: esc_unique_id)
};

using StepOutput = std::vector<Measured>;
using StepFn = std::function<asio::awaitable<Result<StepOutput>>(const plan::StepSpec&)>;
using Registry = std::map<std::string, StepFn>;  // kind -> implementation

// The station's way back to safe state. Implementations must not throw and must try every
// action even if an earlier one failed.
class SafeState {
public:
    virtual ~SafeState() = default;
    virtual asio::awaitable<Result<void>> after_step() = 0;  // motors stopped
    virtual asio::awaitable<Result<void>> make_safe() = 0;   // motors stopped, DUT power off
};

struct RunOutcome {
    std::vector<reports::StepRecord> steps;
    Verdict verdict = Verdict::error;
    bool aborted = false;         // operator abort or shutdown: no certificate for this unit
    std::string abort_reason;
    std::string safe_state_error; // empty when the safe state was confirmed
    std::string summary;          // first failing or erroring step, for the operator
};

struct Options {
    // Slack beyond a step's own timeout before the sequencer cancels it outright: a step that
    // honours its deadline never meets it.
    std::chrono::milliseconds backstop{1000};
    std::function<void(const plan::StepSpec&, std::size_t index)> on_step_start;  // a step is about to run (not one skipped)
    std::function<void(const reports::StepRecord&)> on_step;  // a step's record, run or not: logging, the operator page
};

asio::awaitable<RunOutcome> run(const plan::Plan& plan, const Registry& registry, SafeState& safe,
                                devices::RunControl& control, const Options& options = {});

// Judges one step's measurements; exposed for tests.
reports::StepRecord judge(const plan::StepSpec& spec, const StepOutput& measured);

std::string iso8601_now();

}  // namespace rig::sequencer
