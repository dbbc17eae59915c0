# A throwaway PostgreSQL for the tests (sourced): Debian's server binaries, initdb and pg_ctl
# into a directory of the test's, run as an unprivileged user (postgres when the tests run as
# root), listening on 127.0.0.1 at a free port and on a Unix socket in that directory.
#   pg_start DIR      sets pg_port, pg_admin (the superuser rig_admin's URL, over the socket)
#   pg_resume DIR     boots again a server pg_start made in DIR (a new port); pg_opts: more
#                     server settings for either ("-c shared_buffers=1GB …")
#   pg_stop / pg_kill stops it cleanly / kills the postmaster (SIGKILL)
#   pg_sql SQL        runs SQL as rig_admin in the database rig; prints the rows, unaligned
#   pg_users          db migrate, then login users station1 (rig_station), ingest1 (rig_ingest),
#                     qa1 (rig_qa), with passwords in $pg_dir/pgpass (PGPASSFILE is exported);
#                     sets pg_station, pg_ingest, pg_qa (URLs over TCP, no password in them)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
pg_dir="" pg_port="" pg_admin="" pg_opts=${pg_opts:-}

pg_as() {
  if [[ $(id -u) -eq 0 ]]; then setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"; else "$@"; fi
}

pg_start() {
  pg_dir=$1
  [[ -x "$pg_bin/initdb" ]] || { echo "FAIL: no PostgreSQL server binaries under /usr/lib/postgresql (scripts/setup installs postgresql)"; exit 1; }
  mkdir -p "$pg_dir"
  if [[ $(id -u) -eq 0 ]]; then
    # The unprivileged server must reach its directory: open the path to it for traversal.
    local d=$pg_dir
    while [[ "$d" != / && "$d" != /tmp ]]; do chmod o+x "$d"; d=$(dirname "$d"); done
    chown postgres:postgres "$pg_dir"
  fi
  pg_as "$pg_bin/initdb" -D "$pg_dir/data" -U rig_admin --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$pg_dir/initdb.log" 2>&1 ||
    { echo "FAIL: initdb: $(tail -n 3 "$pg_dir/initdb.log")"; exit 1; }
  pg_resume "$pg_dir"
  pg_as "$pg_bin/psql" -qAt -h "$pg_dir" -p "$pg_port" -U rig_admin -d postgres -c "CREATE DATABASE rig" >/dev/null || { echo "FAIL: createdb"; exit 1; }
}

pg_resume() {
  pg_dir=$1
  local tries
  for tries in $(seq 20); do
    pg_port=$(( 20000 + RANDOM % 20000 ))
    pg_boot && break
    pg_port=""
  done
  [[ -n "$pg_port" ]] || { echo "FAIL: PostgreSQL did not start: $(tail -n 5 "$pg_dir/server.log")"; exit 1; }
  pg_admin="postgresql://rig_admin@/rig?host=$pg_dir&port=$pg_port"
}

pg_boot() {  # starts (or restarts) the server on $pg_port
  pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=50 $pg_opts" start >/dev/null 2>&1
}

pg_stop() { [[ -n "$pg_dir" && -f "$pg_dir/data/postmaster.pid" ]] && pg_as "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1; return 0; }
pg_kill() {
  local pid
  pid=$(head -n 1 "$pg_dir/data/postmaster.pid" 2>/dev/null) && kill -KILL "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  # its backends die with it; the next pg_boot recovers from the WAL
  pkill -KILL -u postgres -f -- "-p $pg_port" 2>/dev/null
  sleep 0.2
  return 0
}

pg_sql() { pg_as "$pg_bin/psql" -qAt -v ON_ERROR_STOP=1 -h "$pg_dir" -p "$pg_port" -U rig_admin -d rig -c "$1"; }

pg_users() {
  "$bin/rigctl" db migrate --archive "$pg_admin" >"$pg_dir/migrate.out" 2>&1 || { echo "FAIL: rigctl db migrate: $(cat "$pg_dir/migrate.out")"; exit 1; }
  export PGPASSFILE="$pg_dir/pgpass"
  : >"$PGPASSFILE" && chmod 600 "$PGPASSFILE"
  local who role
  for who in station1:rig_station ingest1:rig_ingest qa1:rig_qa; do
    role=${who#*:} who=${who%%:*}
    pg_sql "CREATE ROLE $who LOGIN PASSWORD 'pw-$who' IN ROLE $role" >/dev/null || { echo "FAIL: create role $who"; exit 1; }
    echo "127.0.0.1:$pg_port:rig:$who:pw-$who" >>"$PGPASSFILE"
  done
  pg_station="postgresql://station1@127.0.0.1:$pg_port/rig"
  pg_ingest="postgresql://ingest1@127.0.0.1:$pg_port/rig"
  pg_qa="postgresql://qa1@127.0.0.1:$pg_port/rig"
}
