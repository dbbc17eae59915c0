// rigctl verify's output, written as it goes: each certificate's line (text) or object (JSON)
// when it is verified, then the problems and the summary. Holds no certificate, so an archive
// of any size prints in bounded memory.
#pragma once
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "reports/verify.hpp"

namespace rig::qa {

class VerifyPrinter {
public:
    // brief: only the bad certificates, the problems and the summary (text and JSON alike).
    VerifyPrinter(bool json, bool brief) : json_(json), brief_(brief) {}
    void item(const reports::ItemReport& i);
    // The problems, notes and summary; `extra` adds keys to the JSON object. Returns the exit code.
    int finish(const reports::VerifyReport& report, const std::vector<std::string>& file_problems, std::size_t file_unlisted,
               boost::json::object extra = {});

private:
    bool json_, brief_;
    std::size_t total_ = 0, bad_ = 0, listed_ = 0;
};

}  // namespace rig::qa
