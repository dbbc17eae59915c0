#include "rig/factory/schema.hpp"

#include <fmt/format.h>

namespace rig::factory {

namespace {

// Version 1: the tables. Text compares byte by byte (COLLATE "C"), as in SQLite, so filters,
// order and paging agree between the two archives.
constexpr const char* kTables = R"sql(
CREATE TABLE rig.certificates (
  id bigserial PRIMARY KEY,
  station text COLLATE "C" NOT NULL,
  sequence bigint NOT NULL CHECK (sequence > 0),
  serial text COLLATE "C" NOT NULL,
  variant text COLLATE "C" NOT NULL,
  lot text COLLATE "C" NOT NULL,
  verdict text COLLATE "C" NOT NULL,
  created_at text COLLATE "C" NOT NULL,
  sha256 text COLLATE "C" NOT NULL UNIQUE,
  previous_sha256 text COLLATE "C" NOT NULL,
  envelope text NOT NULL,
  keyid text NOT NULL,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (station, sequence)
);
CREATE INDEX certificates_serial ON rig.certificates (serial, id);
CREATE INDEX certificates_lot_time ON rig.certificates (lot, created_at, id);
CREATE INDEX certificates_station_time ON rig.certificates (station, created_at, id);
CREATE INDEX certificates_variant_time ON rig.certificates (variant, created_at, id);
CREATE INDEX certificates_verdict_time ON rig.certificates (verdict, created_at, id);
CREATE INDEX certificates_station_verdict_time ON rig.certificates (station, verdict, created_at, id);
CREATE INDEX certificates_variant_verdict_time ON rig.certificates (variant, verdict, created_at, id);
CREATE INDEX certificates_time ON rig.certificates (created_at, id);

CREATE TABLE rig.checkpoints (
  id bigserial PRIMARY KEY,
  station text COLLATE "C" NOT NULL,
  sequence bigint NOT NULL,
  head_sha256 text COLLATE "C" NOT NULL,
  envelope text NOT NULL,
  UNIQUE (station, sequence)
);

-- What stations send, before it is verified: a resent item is the same row (station,
-- sequence, sha256); a second certificate for a sequence is a second row, and an alarm.
CREATE TABLE rig.inbox (
  id bigserial PRIMARY KEY,
  station text COLLATE "C" NOT NULL,
  sequence bigint NOT NULL,
  sha256 text COLLATE "C" NOT NULL,
  envelope text NOT NULL,
  checkpoint text NOT NULL DEFAULT '',
  received_at timestamptz NOT NULL DEFAULT now(),
  received_by name NOT NULL DEFAULT session_user,
  UNIQUE (station, sequence, sha256)
);

-- Items refused on ingest: a fork, an unknown key, a bad signature or a broken link. Never
-- stored as certificates; raised once and counted each time they are sent again.
CREATE TABLE rig.alarms (
  id bigserial PRIMARY KEY,
  raised_at timestamptz NOT NULL DEFAULT now(),
  last_at timestamptz NOT NULL DEFAULT now(),
  times integer NOT NULL DEFAULT 1,
  station text COLLATE "C" NOT NULL,
  sequence bigint NOT NULL,
  sha256 text COLLATE "C" NOT NULL,
  kind text NOT NULL,
  message text NOT NULL,
  envelope text NOT NULL,
  received_by name NOT NULL,
  UNIQUE (station, sequence, sha256, kind)
);

CREATE FUNCTION rig.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER certificates_append_only BEFORE UPDATE OR DELETE ON rig.certificates
  FOR EACH ROW EXECUTE FUNCTION rig.append_only();
CREATE TRIGGER certificates_no_truncate BEFORE TRUNCATE ON rig.certificates
  FOR EACH STATEMENT EXECUTE FUNCTION rig.append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON rig.checkpoints
  FOR EACH ROW EXECUTE FUNCTION rig.append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON rig.checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION rig.append_only();

-- A new inbox row wakes the ingest (LISTEN rig_inbox).
CREATE FUNCTION rig.inbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('rig_inbox', '');
  RETURN NULL;
END $$;
CREATE TRIGGER inbox_notify AFTER INSERT ON rig.inbox FOR EACH STATEMENT EXECUTE FUNCTION rig.inbox_notify();
)sql";

// Version 2: who may do what, and the one question a station may ask.
constexpr const char* kRoles = R"sql(
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rig_station') THEN CREATE ROLE rig_station NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rig_ingest') THEN CREATE ROLE rig_ingest NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rig_qa') THEN CREATE ROLE rig_qa NOLOGIN; END IF;
END $$;

-- The sequence a station's forwarding resumes after, and the sha256 held for it: its last
-- verified certificate, followed by the unbroken run of its sequences waiting in the inbox. A
-- server restored from an older backup answers lower, and the station sends again from there;
-- a station whose own archive was restored or forked sees a sha256 that is not its own.
CREATE FUNCTION rig.acknowledged(st text) RETURNS TABLE (sequence bigint, sha256 text) LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  WITH head AS (SELECT coalesce(max(c.sequence), 0) AS c FROM rig.certificates c WHERE c.station = st),
  pending AS (SELECT DISTINCT i.sequence FROM rig.inbox i, head WHERE i.station = st AND i.sequence > head.c),
  run AS (SELECT p.sequence, row_number() OVER (ORDER BY p.sequence) AS rn FROM pending p),
  ack AS (SELECT head.c + (SELECT count(*) FROM run WHERE run.sequence = head.c + run.rn) AS s FROM head)
  SELECT ack.s, coalesce((SELECT c.sha256 FROM rig.certificates c WHERE c.station = st AND c.sequence = ack.s),
                         (SELECT i.sha256 FROM rig.inbox i WHERE i.station = st AND i.sequence = ack.s ORDER BY i.id LIMIT 1), '')
  FROM ack
$$;

REVOKE ALL ON SCHEMA rig FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA rig FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA rig FROM PUBLIC;
GRANT USAGE ON SCHEMA rig TO rig_station, rig_ingest, rig_qa;
GRANT SELECT ON rig.migrations TO rig_station, rig_ingest, rig_qa;

GRANT INSERT ON rig.inbox TO rig_station;
GRANT USAGE ON SEQUENCE rig.inbox_id_seq TO rig_station;
GRANT EXECUTE ON FUNCTION rig.acknowledged(text) TO rig_station, rig_ingest, rig_qa;

GRANT SELECT, DELETE ON rig.inbox TO rig_ingest;
GRANT SELECT, INSERT ON rig.certificates, rig.checkpoints TO rig_ingest;
GRANT SELECT, INSERT, UPDATE ON rig.alarms TO rig_ingest;
GRANT USAGE ON SEQUENCE rig.certificates_id_seq, rig.checkpoints_id_seq, rig.alarms_id_seq TO rig_ingest;

GRANT SELECT ON rig.certificates, rig.checkpoints, rig.alarms TO rig_qa;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> all{
        {1, "tables: certificates, checkpoints, inbox, alarms (append-only)", kTables},
        {2, "roles: rig_station inserts, rig_ingest verifies, rig_qa reads", kRoles},
    };
    return all;
}

int latest_version() { return migrations().back().version; }

Result<int> schema_version(pg::Connection& c) {
    auto t = c.exec("SELECT to_regclass('rig.migrations') IS NOT NULL");
    if (!t) return t.error();
    if (t->text(0, 0) != "t") return 0;
    auto v = c.exec("SELECT coalesce(max(version), 0) FROM rig.migrations");
    if (!v) return v.error();
    return static_cast<int>(v->integer(0, 0));
}

Result<void> require_schema(pg::Connection& c) {
    auto v = schema_version(c);
    if (!v) return v.error();
    if (*v < latest_version())
        return make_error(Errc::invalid_argument,
                          fmt::format("{}: the factory archive's schema is at version {}, this rig needs {}: run rigctl db migrate --archive URL",
                                      c.name(), *v, latest_version()));
    if (*v > latest_version())
        return make_error(Errc::invalid_argument, fmt::format("{}: the factory archive's schema is at version {}, newer than this rig knows ({}): "
                                                              "upgrade rig",
                                                              c.name(), *v, latest_version()));
    return {};
}

Result<Applied> migrate(pg::Connection& c) {
    if (auto r = c.run("SELECT pg_advisory_lock(hashtext('rig migrate'))"); !r) return r.error();
    struct Unlock {
        pg::Connection& c;
        ~Unlock() { (void)c.run("SELECT pg_advisory_unlock(hashtext('rig migrate'))"); }
    } unlock{c};
    if (auto r = c.script("CREATE SCHEMA IF NOT EXISTS rig; CREATE TABLE IF NOT EXISTS rig.migrations (version integer PRIMARY KEY, name text NOT NULL, "
                          "applied_at timestamptz NOT NULL DEFAULT now(), applied_by name NOT NULL DEFAULT session_user)");
        !r)
        return r.error();
    auto v = schema_version(c);
    if (!v) return v.error();
    Applied out{*v, *v, {}};
    if (*v > latest_version())
        return make_error(Errc::invalid_argument,
                          fmt::format("{}: the factory archive's schema is at version {}, newer than this rig knows ({})", c.name(), *v, latest_version()));
    for (const auto& m : migrations()) {
        if (m.version <= *v) continue;
        auto r = c.transaction([&]() -> Result<void> {
            if (auto s = c.script(m.sql); !s) return make_error(s.error().code, fmt::format("migration {} ({}): {}", m.version, m.name, s.error().message));
            return c.run("INSERT INTO rig.migrations (version, name) VALUES ($1, $2)", {std::to_string(m.version), std::string(m.name)});
        });
        if (!r) return r.error();
        out.to = m.version;
        out.names.push_back(fmt::format("{} {}", m.version, m.name));
    }
    return out;
}

}  // namespace rig::factory
