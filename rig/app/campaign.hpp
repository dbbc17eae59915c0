// rigctl campaign: a simulated population through a simulated line (rigsim with K jigs, one rigd
// with K nests, both child processes on a private run directory), judged against the truth file
// rigsim writes: which step caught each injected defect, which defect escaped, which good unit
// was failed or aborted.
#pragma once
#include <string>

namespace rig::app {

struct CampaignOptions {
    std::string population;
    int nests = 4;
    int units = 0;  // 0: the population's own
    unsigned seed = 1;
    std::string junit, json;  // files to write; empty: none
    std::string variants;     // --variants for rigd (default: the source tree's or installed)
    std::string run_dir;      // default: a new directory under $TMPDIR
    int stall_timeout_s = 300;  // no verdict (rigd stdout silent) this long: stop, a partial result
};

// Exit status: 0 when every defect was caught by its intended step and every good unit passed;
// 1 on any escape, misattribution, false fail, false abort or safety violation, or a line that
// stalled (no verdict for stall_timeout_s) or stopped before every unit was tested; 2 on bad input
// or a child that would not start; 130 when interrupted (partial results printed).
int run_campaign(const CampaignOptions& options, const char* argv0);

}  // namespace rig::app
