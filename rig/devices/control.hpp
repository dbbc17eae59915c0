// What bounds every device transaction of a running step: the step's deadline and the
// station's abort flag. Teardown clears both so that making the station safe is never refused.
#pragma once
#include <array>
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "protocols/common/result.hpp"

namespace rig::devices {

using Clock = std::chrono::steady_clock;

struct RunControl {
    std::optional<Clock::time_point> deadline;  // the running step's timeout
    std::string deadline_owner;                 // the step id, for messages
    bool abort = false;
    std::string abort_reason;
    // The running step's wait for shared instruments (the sequencer reports it with the step);
    // a wait moves the deadline by as much.
    Clock::duration instrument_wait{};
    // The unit's dwells (the plan's settle and spin times): how many ended, and the latest end
    // after its planned end (timer and io-thread jitter). The station resets them per unit.
    int dwells = 0;
    Clock::duration dwell_late_max{};
    // Every dwell's lateness counted in buckets: ≤ kDwellLateBoundsMs[i], the last one beyond
    // them all. Summed over units, a campaign reads the p99 of all dwells from it.
    static constexpr std::array<double, 10> kDwellLateBoundsMs{0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128};
    std::array<int, kDwellLateBoundsMs.size() + 1> dwell_late_hist{};
    void dwell_ended(Clock::duration late) {
        ++dwells;
        dwell_late_max = std::max(dwell_late_max, late);
        const double ms = std::chrono::duration<double, std::milli>(late).count();
        std::size_t i = 0;
        while (i < kDwellLateBoundsMs.size() && ms > kDwellLateBoundsMs[i]) ++i;
        ++dwell_late_hist[i];
    }

    // The wait a transaction may take: its own timeout, cut to the step's remaining time.
    // An error when the step is out of time or the station is aborting.
    Result<std::chrono::milliseconds> budget(std::chrono::milliseconds wanted) const {
        if (abort) return make_error(Errc::cancelled, "aborted: " + abort_reason);
        if (!deadline) return wanted;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now());
        if (left.count() <= 0) return make_error(Errc::timeout, "step '" + deadline_owner + "' timed out");
        return std::min(wanted, left);
    }
};

}  // namespace rig::devices
