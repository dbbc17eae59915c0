// rigctl's factory archive commands: db migrate/status (the schema), factory ingest (the gate
// that verifies what stations forward), factory alarms and factory status (QA's view of it).
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "rig/app/paths.hpp"

namespace rig::app {

class FactoryCommands {
public:
    explicit FactoryCommands(CLI::App& cli);
    bool parsed() const;
    int run(const DataPaths& paths);

private:
    CLI::App *db_ = nullptr, *migrate_ = nullptr, *db_status_ = nullptr;
    CLI::App *factory_ = nullptr, *ingest_ = nullptr, *forward_ = nullptr, *alarms_ = nullptr, *status_ = nullptr;
    std::string url_, from_;
    std::vector<std::string> trust_, stations_;
    double timeout_s_ = 0;
    int reply_timeout_s_ = 30;
    bool follow_ = false, json_ = false;
    std::size_t batch_ = 1000, forward_batch_ = 500;
};

}  // namespace rig::app
