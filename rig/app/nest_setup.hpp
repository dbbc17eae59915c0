// rigd's start-up checks and key handling, one nest at a time: the variant's plan found and
// fitted to the jig, the station's key bound to it, and nests that would share a port or a
// station id refused.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "reports/dsse.hpp"
#include "reports/trust.hpp"
#include "rig/app/paths.hpp"
#include "rig/plan/plan.hpp"
#include "rig/station/jigfile.hpp"

namespace rig::app {

// Where a variant's plan is looked for when --variants is not given: beside the jig file (a
// station keeps its jigs and variants together), the installed share directory, the source tree.
std::vector<std::filesystem::path> variant_dirs(const std::string& given, const std::filesystem::path& jig_file, const char* argv0);
Result<plan::Plan> find_plan(const std::vector<std::filesystem::path>& dirs, const std::string& variant);
// The plan's steps that need a device or instrument the jig file lacks, as one line.
Result<void> check_plan_fits(const station::JigFile& jig, const plan::Plan& plan);
// Two nests on one port, or with one station id (one chain, one key), are refused naming both files;
// a bench instrument may be shared, when each nest selects its own output or switch path.
Result<void> check_distinct(const std::vector<station::JigFile>& jigs);

// The first nest's station signs with DATA/station.key, every further one with
// DATA/keys/STATION.key; each is generated at first start and must be bound to its station by
// the data directory's trust store.
std::filesystem::path key_file(const DataPaths& paths, const std::string& station, bool first);
Result<reports::StationKey> station_key(const std::filesystem::path& file, const DataPaths& paths, const std::string& station);
Result<reports::TrustStore> bound_trust(const DataPaths& paths, const std::filesystem::path& key_file, const reports::StationKey& key,
                                        const std::string& station);

}  // namespace rig::app
