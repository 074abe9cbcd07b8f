#!/usr/bin/env bash
# Load benchmark: callhook against a bare hyper server (examples/bare_server.rs)
# that only reads the body and answers ok, in one run, under wrk with 1- and
# 50-record Alibaba call-report pushes (realistic records: random customer
# numbers, out_ids, 400 task ids, 90 days; every call id new).
#
# For each backend (BACKENDS) and each preload (0 and PRELOAD calls already
# stored, loaded through the same push path), it reports: 1- and 50-record
# pushes/s and records/s acknowledged; p50/p99 acknowledgement; projection
# records/s sustained (records acknowledged during the 50-record run over
# the time until all of them were projected); p99 of a run paced at
# PACE_RPS pushes/s; the time to acknowledge one 2,000-record push; bytes
# per call on disk; peak RSS (VmHWM). Prints a markdown table.
#
# Env: DURATION (15s) per wrk run, THREADS (2), CONNECTIONS (64),
#      PACE_RPS (2000; 0 skips the paced run), BIG_RUNS (5),
#      BACKENDS ("sqlite postgres"), PRELOAD (1000000; 0 runs only the
#      empty database), POSTGRES (server to create databases on, default
#      postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
PACE_RPS=${PACE_RPS:-2000}
BIG_RUNS=${BIG_RUNS:-5}
BACKENDS=${BACKENDS:-sqlite postgres}
PRELOAD=${PRELOAD:-1000000}
POSTGRES=${POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}

command -v wrk >/dev/null || { echo "wrk is needed: apt-get update && apt-get install -y wrk" >&2; exit 1; }
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
if [[ $BACKENDS == *postgres* ]]; then
  command -v psql >/dev/null || { echo "psql is needed for the PostgreSQL runs" >&2; exit 1; }
fi
cargo build --release --quiet --bin callhook --example bare_server

# The SQLite database lives under target/ on the repository's disk: a tmpfs
# would make every commit's fsync free and the numbers meaningless.
work=$(mktemp -d "$PWD/target/bench-load.XXXXXX")
server_pid=""
pg_dbs=()
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  for db in "${pg_dbs[@]}"; do
    psql -q "$POSTGRES" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
# Without these, a signal would end bash without running the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until $server_url/healthz answers (the bare server answers any path).
wait_up() {
  for _ in $(seq 100); do
    curl -sf -o /dev/null "$server_url/healthz" && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not come up; its log:" >&2
  cat "$log" >&2
  exit 1
}

# start_bare NAME / start_callhook NAME DATABASE: set server_pid, server_url, log.
start_bare() {
  mkdir -p "$work/$1"
  log="$work/$1/server.log"
  target/release/examples/bare_server 127.0.0.1:0 >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q '^listening on ' "$log" && break
    sleep 0.1
  done
  server_url="http://$(sed -n 's/^listening on //p' "$log" | head -n1)"
  wait_up
}
start_callhook() {
  mkdir -p "$work/$1"
  log="$work/$1/server.log"
  server_url="http://127.0.0.1:$(free_port)"
  target/release/callhook serve --listen "${server_url#http://}" \
    --database "$2" --log-format json >"$log" 2>&1 &
  server_pid=$!
  wait_up
}

# Stops the server; sets rss_mib to its peak resident set (VmHWM).
stop_server() {
  kill -0 "$server_pid" 2>/dev/null || { echo "server exited during the run; its log:" >&2; cat "$log" >&2; exit 1; }
  rss_mib=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# run_wrk RECORDS TAG PACE_MS: sets r_requests, r_seconds, r_non2xx,
# r_sockerr, r_p50_ms, r_p99_ms from push.lua's RESULT line.
run_wrk() {
  local out="$work/$2.wrk"
  RECORDS=$1 RUN_TAG=$2 PACE_MS=$3 wrk -t"$THREADS" -c"$CONNECTIONS" \
    -d"$DURATION" --latency -s bench/wrk/push.lua "$server_url/hooks/aliyun-call-report" >"$out"
  grep -q '^RESULT ' "$out" || { echo "no RESULT line from wrk:" >&2; cat "$out" >&2; exit 1; }
  local kv
  for kv in $(sed -n 's/^RESULT //p' "$out"); do
    printf -v "r_${kv%%=*}" '%s' "${kv#*=}"
  done
}

# Pending records, from /readyz.
pending() {
  curl -sf "$server_url/readyz" | python3 -c 'import json, sys; print(json.load(sys.stdin)["projection"]["pending_records"])'
}

# Waits until nothing is pending; prints the seconds it took.
settle() {
  local t0 n
  t0=$(date +%s.%N)
  while :; do
    n=$(pending)
    ((n == 0)) && break
    sleep 0.05
  done
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
}

# Calls callhook holds, summed over vendors.
stored_calls() {
  curl -sf "$server_url/api/v1/stats?group_by=vendor" |
    python3 -c 'import json, sys; print(sum(r["calls"] for r in json.load(sys.stdin)["rows"]))'
}

# Bytes the database takes on disk: SQLite's files, or PostgreSQL's database.
disk_bytes() {
  if [[ $1 == sqlite://* ]]; then
    local f=${1#sqlite://}
    du -cb "$f" "$f-wal" 2>/dev/null | tail -n1 | cut -f1
  else
    psql -tA "$1" -c "SELECT pg_database_size(current_database())"
  fi
}

# A new database of BACKEND named NAME: prints its URL.
new_database() {
  if [[ $1 == sqlite ]]; then
    mkdir -p "$work/db-$2"
    echo "sqlite://$work/db-$2/bench.db"
  else
    local db="callhook_bench_${2//-/_}_$$"
    psql -q "$POSTGRES" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    pg_dbs+=("$db")
    echo "${POSTGRES%/*}/$db"
  fi
}

# Checks that every acknowledged record is a call; at_least = ok pushes × records.
failed=0 checks="" notes=""
verify() {
  local stored at_least=$1
  stored=$(stored_calls)
  if ((stored >= at_least)); then
    checks+="- $2: callhook stored $stored calls; acknowledged records at least $at_least: ok"$'\n'
  else
    checks+="- $2: callhook stored $stored calls; acknowledged records at least $at_least: MISSING CALLS"$'\n'
    failed=1
  fi
  notes+="- $2: callhook log: $(log_summary)"$'\n'
}

# The WARN and ERROR events of callhook's JSON log, counted by message.
log_summary() {
  python3 - "$log" <<'PY'
import collections, json, sys
seen = collections.Counter()
for line in open(sys.argv[1]):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if event.get("level") in ("WARN", "ERROR"):
        seen[f'{event["level"]} "{event.get("fields", {}).get("message", "")}"'] += 1
print(", ".join(f"{n} x {what}" for what, n in seen.most_common()) or "no warnings or errors")
PY
}

# 2,000-record Alibaba pushes (each run new call ids), realistic values.
python3 - "$work" "$BIG_RUNS" <<'PY'
import json, random, sys
d, runs = sys.argv[1], int(sys.argv[2])
for run in range(runs):
    recs = [{"taskId": f"T{random.randrange(400):04d}", "callId": f"big-{run}-{i}",
             "outId": f"o{random.randrange(10**9)}", "startTime": "2025-06-01 10:00:00",
             "endTime": "2025-06-01 10:05:30", "duration": 330, "statusCode": "200010",
             "smartStatusCode": "ANSWERED", "caller": "057100000000",
             "callee": f"1{random.randrange(10**10):010d}", "hangupDirection": "User",
             "originateTime": "2025-06-01 09:59:45", "ringTime": "2025-06-01 09:59:50"}
            for i in range(2000)]
    with open(f"{d}/big{run}.json", "w") as f:
        json.dump(recs, f)
PY

# The bare server: the ceiling of any receiver on this machine, this run.
declare -A bare
bare_rows=""
for n in 1 50; do
  start_bare "bare-$n"
  run_wrk "$n" "bare-$n" 0
  bare[$n]=$(awk -v r="$r_requests" -v s="$r_seconds" 'BEGIN { printf "%.0f", r / s }')
  stop_server
  bare_rows+="| bare | - | $n rec | ${bare[$n]} | $((n * ${bare[$n]})) | $r_p50_ms | $r_p99_ms | $rss_mib |"$'\n'
done

rows=""
preloads=0
((PRELOAD > 0)) && preloads="0 $PRELOAD"
for backend in $BACKENDS; do
  for preload in $preloads; do
    name="$backend-$preload"
    db=$(new_database "$backend" "$name")
    if ((preload > 0)); then
      # Through the push path (`callhook import`: parse, append, project),
      # in files of 100,000 calls.
      echo "preloading $preload calls on $backend ..." >&2
      t0=$(date +%s)
      for ((k = 0; k * 100000 < preload; k++)); do
        python3 bench/preload.py "$k" "$(((preload - k * 100000) < 100000 ? preload - k * 100000 : 100000))" \
          >"$work/preload.ndjson"
        target/release/callhook --database "$db" import --source aliyun-call-report "$work/preload.ndjson" \
          >>"$work/preload.log" 2>&1
      done
      rm -f "$work/preload.ndjson"
      echo "preloaded in $(($(date +%s) - t0)) s" >&2
    fi
    start_callhook "$name" "$db"
    base=$(stored_calls)
    line="| callhook | $backend | $preload |"
    for n in 1 50; do
      run_wrk "$n" "r$n-$name" 0
      ok=$((r_requests - r_non2xx))
      drain=$(settle)
      read -r ok_s rec_s ratio proj < <(awk -v ok="$ok" -v s="$r_seconds" -v n="$n" -v b="${bare[$n]}" -v d="$drain" \
        'BEGIN { printf "%.0f %.0f %.2f %.0f\n", ok / s, ok * n / s, ok / s / b, ok * n / (s + d) }')
      line+=" $ok_s ($ratio) | $rec_s | $r_p50_ms / $r_p99_ms | $r_non2xx |"
      if ((n == 50)); then line+=" $proj (drain ${drain} s) |"; fi
      verify $((base + ok * n)) "$name, $n rec"
      base=$(stored_calls)
    done
    paced="-"
    if ((PACE_RPS > 0)); then
      # wrk has no rate limit: each connection waits CONNECTIONS*1000/PACE_RPS
      # ms (on average) before each request, so the rate ends a little below.
      pace_ms=$(((CONNECTIONS * 1000 + PACE_RPS / 2) / PACE_RPS))
      run_wrk 1 "paced-$name" "$pace_ms"
      paced="$(awk -v r="$r_requests" -v s="$r_seconds" 'BEGIN { printf "%.0f", r / s }')/s p99 $r_p99_ms"
      settle >/dev/null
    fi
    big=""
    for ((run = 0; run < BIG_RUNS; run++)); do
      big+=" $(curl -s -o /dev/null -w '%{time_total}' -X POST -H 'Content-Type: application/json' \
        --data-binary "@$work/big$run.json" "$server_url/hooks/aliyun-call-report" |
        awk '{ printf "%.0f", $1 * 1000 }')"
    done
    settle >/dev/null
    calls=$(stored_calls)
    verify "$((base + BIG_RUNS * 2000))" "$name, 2,000-record pushes"
    bytes=$(disk_bytes "$db")
    per_call=$(awk -v b="$bytes" -v c="$calls" 'BEGIN { printf "%.0f", b / c }')
    stop_server
    rows+="$line $paced | ${big# } | $per_call ($calls calls) | $rss_mib |"$'\n'
  done
done

cat <<EOF

## callhook load benchmark

$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores,
wrk -t$THREADS -c$CONNECTIONS -d$DURATION, realistic Alibaba call-report pushes, SQLite on $(stat -f -c %T "$work").

| server | req/s | records/s | p50 / p99 ms | peak RSS MiB |
|---|---:|---:|---:|---:|
$(echo -n "$bare_rows" | awk -F'|' '{ printf "| bare %s |%s|%s|%s / %s|%s|\n", $4, $5, $6, $7, $8, $9 }')

callhook (pushes/s acknowledged, with the ratio to the bare server's req/s in the same run):

| backend | preloaded calls | 1 rec pushes/s | 1 rec records/s | 1 rec p50 / p99 ms | 1 rec non-2xx | 50 rec pushes/s | 50 rec records/s | 50 rec p50 / p99 ms | 50 rec non-2xx | projection records/s sustained | paced ${PACE_RPS}/s | 2,000-record push ack ms (each run) | bytes per call | peak RSS MiB |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$(echo -n "$rows" | sed 's/^| callhook //')

Stored calls:
${checks}
${notes}
EOF
exit "$failed"
