# scripts/bench --factory [ROWS] (sourced by scripts/bench, with root, build and rows set): the
# factory archive on a real PostgreSQL, in Release.
#   1. Ingest: a station archive of RIG_BENCH_INGEST_ROWS certificates (default 20,000, 4
#      stations) sent by `rigctl factory forward` (the station role, batches of 500) and verified
#      by `rigctl factory ingest` (the ingest role: signature, binding, label, chain link, clock,
#      checkpoint), on a fresh schema each of 5 runs: certificates/s, min/median/max.
#   2. Queries on ROWS certificates in PostgreSQL: bench_archive_build's archive, copied into
#      rig.certificates once (COPY, not ingest: 10 M verifications would only time ingest again)
#      by a server kept in build/bench/factory-pg-ROWS, then bench_query's queries through
#      PgArchive, and rigctl's wall time per command.
# shellcheck source=../pg/server.sh
source "$root/tests/pg/server.sh"
bin="$build/bin"
cmake --build "$build" -j "$(nproc)" --target bench_archive_build bench_query rigctl

stats3() {  # stats3 VALUES...: "min A  median B  max C" of the values
  local s
  read -r -a s <<<"$(printf '%s\n' "$@" | sort -g | tr '\n' ' ')"
  printf 'min %8.0f  median %8.0f  max %8.0f' "${s[0]}" "${s[$(($# / 2))]}" "${s[$(($# - 1))]}"
}

bench_ingest() {
  local n=${RIG_BENCH_INGEST_ROWS:-20000} runs=5 i
  local src="$build/archive-$n-4"
  [[ -f "$src/archive.sqlite" ]] || rm -rf "$src"
  "$bin/bench_archive_build" "$src" "$n" 4 >/dev/null
  local stations=() s
  for s in $(sqlite3 "$src/archive.sqlite" "SELECT DISTINCT station FROM certificates ORDER BY station"); do stations+=(--station "$s"); done
  local work
  work=$(mktemp -d /tmp/rig-bench-factory.XXXXXX)
  trap 'pg_stop; rm -rf "$work"' EXIT
  pg_start "$work/pg"
  pg_users
  local fwd=() ing=() both=() t0 t1 t2
  for ((i = 0; i < runs; i++)); do
    pg_sql "DROP SCHEMA IF EXISTS rig CASCADE" >/dev/null
    "$bin/rigctl" db migrate --archive "$pg_admin" >/dev/null
    t0=$(date +%s.%N)
    "$bin/rigctl" factory forward --from "$src/archive.sqlite" "${stations[@]}" --archive "$pg_station" >"$work/forward.out" 2>&1 ||
      { echo "scripts/bench: factory forward failed: $(tail -n 2 "$work/forward.out")" >&2; return 1; }
    t1=$(date +%s.%N)
    "$bin/rigctl" --data "$src" factory ingest --archive "$pg_ingest" >"$work/ingest.out" 2>&1 ||
      { echo "scripts/bench: factory ingest failed: $(tail -n 2 "$work/ingest.out")" >&2; return 1; }
    t2=$(date +%s.%N)
    [[ $(pg_sql "SELECT count(*) FROM rig.certificates") == "$n" ]] || { echo "scripts/bench: ingest stored $(pg_sql "SELECT count(*) FROM rig.certificates") of $n" >&2; return 1; }
    fwd+=("$(echo "$n / ($t1 - $t0)" | bc -l)") ing+=("$(echo "$n / ($t2 - $t1)" | bc -l)") both+=("$(echo "$n / ($t2 - $t0)" | bc -l)")
  done
  echo "== factory ingest: $n certificates of $((${#stations[@]} / 2)) stations, $runs runs, certificates/s =="
  echo "   forward (station role, batches of 500)      $(stats3 "${fwd[@]}")"
  echo "   ingest (verify, store, one station at a time) $(stats3 "${ing[@]}")"
  echo "   forward then ingest, end to end              $(stats3 "${both[@]}")"
  pg_stop
  rm -rf "$work"
  trap - EXIT
}

# The ROWS-certificate archive in a server of its own, loaded once: COPY without the
# secondary indexes, then those indexes built again from their own definitions.
factory_load() {
  local src=$1 dir=$2
  rm -rf "$dir"
  pg_start "$dir"
  "$bin/rigctl" db migrate --archive "$pg_admin" >/dev/null
  local defs
  defs=$(pg_sql "SELECT indexdef || ';' FROM pg_indexes WHERE schemaname = 'rig' AND tablename = 'certificates'
                 AND indexname NOT IN (SELECT conname FROM pg_constraint)")
  pg_sql "$(pg_sql "SELECT 'DROP INDEX rig.' || indexname || ';' FROM pg_indexes WHERE schemaname = 'rig' AND tablename = 'certificates'
                    AND indexname NOT IN (SELECT conname FROM pg_constraint)")" >/dev/null
  local start=$SECONDS
  sqlite3 -csv "$src" "SELECT station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, envelope,
                              json_extract(envelope, '\$.signatures[0].keyid') FROM certificates ORDER BY id" |
    pg_as "$pg_bin/psql" -qAt -v ON_ERROR_STOP=1 -h "$pg_dir" -p "$pg_port" -U rig_admin -d rig -c "SET synchronous_commit = off" -c \
      "\\copy rig.certificates (station, sequence, serial, variant, lot, verdict, created_at, sha256, previous_sha256, envelope, keyid) FROM pstdin WITH (FORMAT csv)"
  sqlite3 -csv "$src" "SELECT k.station, k.sequence, c.sha256, k.envelope FROM checkpoints k JOIN certificates c USING (station, sequence) ORDER BY k.id" |
    pg_as "$pg_bin/psql" -qAt -v ON_ERROR_STOP=1 -h "$pg_dir" -p "$pg_port" -U rig_admin -d rig -c \
      "\\copy rig.checkpoints (station, sequence, head_sha256, envelope) FROM pstdin WITH (FORMAT csv)"
  echo "   copied in $((SECONDS - start)) s"
  pg_sql "SET maintenance_work_mem = '1GB'; $defs ANALYZE rig.certificates; ANALYZE rig.checkpoints;" >/dev/null
  echo "   indexed in $((SECONDS - start)) s (both), $(pg_sql "SELECT pg_size_pretty(pg_database_size('rig'))") in all"
  touch "$dir/loaded"
}

bench_queries() {
  local src="$build/archive-$rows" dir="$build/factory-pg-$rows"
  [[ -f "$src/archive.sqlite" ]] || rm -rf "$src"
  "$bin/bench_archive_build" "$src" "$rows"
  pg_opts="-c shared_buffers=2GB -c max_wal_size=4GB -c checkpoint_timeout=30min -c max_parallel_maintenance_workers=2"
  trap 'pg_stop' EXIT
  if [[ -f "$dir/loaded" ]]; then
    pg_resume "$dir"
  else
    echo "== loading $rows certificates into PostgreSQL ($dir) =="
    factory_load "$src/archive.sqlite" "$dir"
  fi
  pg_sql "CREATE ROLE qa_bench LOGIN IN ROLE rig_qa" >/dev/null 2>&1 || true
  local url="postgresql://qa_bench@/rig?host=$pg_dir&port=$pg_port"
  echo "== PostgreSQL: $(pg_sql "SELECT count(*) FROM rig.certificates") certificates, $(pg_sql "SELECT pg_size_pretty(pg_database_size('rig'))") =="
  RIG_BENCH_ARCHIVE_DIR=$src RIG_BENCH_ARCHIVE_URL=$url "$bin/bench_query" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_counters_tabular=true --benchmark_min_time=1
  sample() { sed -n "${1}p" "$src/samples.tsv" | cut -f"$2"; }
  local serial lot since station
  serial=$(sample 777 1) lot=$(sample 1234 2) since=$(sample 1500 5) station=$(sample 300 4)
  out="$build/factory-bench-out" dir=$src
  mkdir -p "$out"
  echo "== rigctl --archive postgresql://… on $rows certificates (serial $serial, lot $lot, station $station, since $since) =="
  measure 5 "show SERIAL" show "$serial" --archive "$url"
  measure 5 "list --lot L" list --lot "$lot" --archive "$url"
  measure 5 "list --verdict fail --since T --limit 1000" list --verdict fail --since "$since" --limit 1000 --archive "$url"
  measure 5 "list --station S --since T --limit 1000" list --station "$station" --since "$since" --limit 1000 --archive "$url"
  measure 5 "stats --lot L" stats --lot "$lot" --archive "$url"
  pg_stop
  trap - EXIT
}

bench_ingest
bench_queries
