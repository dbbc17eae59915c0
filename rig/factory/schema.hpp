// The factory archive's schema in PostgreSQL: versioned migrations, applied in order by
// `rigctl db migrate`, each in its own transaction and recorded in rig.migrations. Everything
// lives in the schema `rig`. Three group roles (NOLOGIN; log-in users are made members):
//   rig_station  inserts into rig.inbox and asks rig.acknowledged(station); reads nothing else;
//   rig_ingest   verifies the inbox into rig.certificates and rig.checkpoints, raises rig.alarms;
//   rig_qa       reads certificates, checkpoints and alarms; writes nothing.
#pragma once
#include <string>
#include <vector>

#include "rig/factory/pg.hpp"

namespace rig::factory {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};
const std::vector<Migration>& migrations();
int latest_version();

// The version the archive's schema is at (0: no rig schema at all).
Result<int> schema_version(pg::Connection& c);
// Refuses, naming both versions, a schema older than this program needs (run `rigctl db
// migrate`) or newer than it knows.
Result<void> require_schema(pg::Connection& c);

struct Applied {
    int from = 0, to = 0;
    std::vector<std::string> names;  // "2 roles: ..."
};
// Applies every pending migration under an advisory lock (two migrators wait for each other).
Result<Applied> migrate(pg::Connection& c);

}  // namespace rig::factory
