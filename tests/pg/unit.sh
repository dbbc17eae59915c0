#!/usr/bin/env bash
# tests/pg/unit.sh BIN [ARGS...]: runs a doctest binary against a throwaway PostgreSQL (server.sh),
# named to it in RIG_TEST_PG_URL (the superuser, over the Unix socket); the server and its
# directory go when the binary ends.
set -uo pipefail
source "$(dirname "$0")/server.sh"
work=$(mktemp -d /tmp/rig-pg-unit.XXXXXX)
trap 'pg_stop; rm -rf "$work"' EXIT
pg_start "$work/pg"
RIG_TEST_PG_URL=$pg_admin "$@"
