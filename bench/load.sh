#!/usr/bin/env bash
# Load benchmark: callhook against a bare hyper server (examples/bare_server.rs)
# that only reads the body and answers ok, under wrk with 1- and 50-record
# Alibaba call-report pushes; then a paced run at about PACE_RPS pushes/s and
# the time to acknowledge one 2,000-record push. Prints a markdown table.
#
# Env: DURATION (15s) per wrk run, THREADS (2), CONNECTIONS (64),
#      PACE_RPS (2000; 0 skips the paced run), BIG_RUNS (5).
# Every scenario gets freshly started servers and a fresh database, so each
# peak RSS (VmHWM) is that scenario's own.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
PACE_RPS=${PACE_RPS:-2000}
BIG_RUNS=${BIG_RUNS:-5}

command -v wrk >/dev/null || { echo "wrk is needed: apt-get update && apt-get install -y wrk" >&2; exit 1; }
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
cargo build --release --quiet --bin callhook --example bare_server

# The database lives under target/ on the repository's disk: a tmpfs would
# make every commit's fsync free and the numbers meaningless.
work=$(mktemp -d "$PWD/target/bench-load.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
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

# start_server bare|callhook NAME: sets server_pid, server_url, log.
start_server() {
  mkdir -p "$work/$2"
  log="$work/$2/server.log"
  if [[ $1 == bare ]]; then
    target/release/examples/bare_server 127.0.0.1:0 >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
      grep -q '^listening on ' "$log" && break
      sleep 0.1
    done
    server_url="http://$(sed -n 's/^listening on //p' "$log" | head -n1)"
  else
    server_url="http://127.0.0.1:$(free_port)"
    target/release/callhook serve --listen "${server_url#http://}" \
      --database "sqlite://$work/$2/bench.db" --log-format json >"$log" 2>&1 &
    server_pid=$!
  fi
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
  RECORDS=$1 RUN_TAG=$2 PACE_MS=$3 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" \
    --latency -s bench/wrk/push.lua "$server_url/hooks/aliyun-call-report" >"$out"
  grep -q '^RESULT ' "$out" || { echo "no RESULT line from wrk:" >&2; cat "$out" >&2; exit 1; }
  local kv
  for kv in $(sed -n 's/^RESULT //p' "$out"); do
    printf -v "r_${kv%%=*}" '%s' "${kv#*=}"
  done
}

# Calls callhook holds, summed over vendors.
stored_calls() {
  curl -sf "$server_url/api/v1/stats?group_by=vendor" |
    python3 -c 'import json, sys; print(sum(r["calls"] for r in json.load(sys.stdin)["rows"]))'
}

# Checks that every acknowledged record is stored; at_least = ok pushes × records.
failed=0
verify() {
  local stored at_least=$1
  stored=$(stored_calls)
  if ((stored >= at_least)); then
    checks+="- $2: callhook stored $stored calls; ok pushes × records = $at_least: ok"$'\n'
  else
    checks+="- $2: callhook stored $stored calls; ok pushes × records = $at_least: MISSING CALLS"$'\n'
    failed=1
  fi
  notes+="- $2: callhook log: $(log_summary)"$'\n'
}

# The WARN and ERROR events of callhook's JSON log, counted by message
# (503s show up here, e.g. as a busy store).
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

rows="" checks="" notes="" ratios=""
declare -A rps
for n in 1 50; do
  for server in bare callhook; do
    tag="r$n-$server"
    start_server "$server" "$tag"
    run_wrk "$n" "$tag" 0
    ok=$((r_requests - r_non2xx))
    read -r req_s ok_s rec_s < <(awk -v r="$r_requests" -v ok="$ok" -v s="$r_seconds" -v n="$n" \
      'BEGIN { printf "%.0f %.0f %.0f\n", r / s, ok / s, ok * n / s }')
    rps[$tag]=$req_s
    if [[ $server == callhook ]]; then verify $((ok * n)) "$n rec"; fi
    stop_server
    rows+="| $n rec | $server | $req_s | $ok_s | $rec_s | $r_p50_ms | $r_p99_ms | $r_non2xx | $r_sockerr | $rss_mib |"$'\n'
  done
  ratios+="- $n rec: callhook/bare req/s = $(awk -v c="${rps[r$n-callhook]}" -v b="${rps[r$n-bare]}" 'BEGIN { printf "%.3f", c / b }')"$'\n'
done

paced=""
if ((PACE_RPS > 0)); then
  # wrk has no rate limit: each connection waits CONNECTIONS*1000/PACE_RPS ms
  # (on average) before each request, so the rate ends a little below target.
  pace_ms=$(((CONNECTIONS * 1000 + PACE_RPS / 2) / PACE_RPS))
  start_server callhook paced
  run_wrk 1 paced "$pace_ms"
  ok=$((r_requests - r_non2xx))
  verify "$ok" "paced 1 rec"
  stop_server
  paced="Paced 1-record pushes to callhook, target ${PACE_RPS}/s (${pace_ms} ms per connection):"
  paced+=" $(awk -v r="$r_requests" -v s="$r_seconds" 'BEGIN { printf "%.0f", r / s }') req/s,"
  paced+=" p50 $r_p50_ms ms, p99 $r_p99_ms ms, non-2xx $r_non2xx, socket errors $r_sockerr, peak RSS $rss_mib MiB"
fi

# Time to acknowledge one 2,000-record Alibaba push (each run new call ids).
python3 - "$work" "$BIG_RUNS" <<'PY'
import json, sys
d, runs = sys.argv[1], int(sys.argv[2])
for run in range(runs):
    recs = [{"taskId": "T1", "batchId": "B1", "callId": f"big-{run}-{i}", "outId": str(i),
             "startTime": "2025-06-01 10:00:00", "endTime": "2025-06-01 10:05:30", "duration": 330,
             "statusCode": "200010", "smartStatusCode": "ANSWERED", "statusMsg": "Call ended normally",
             "caller": "057100000000", "realCaller": "057188888888", "callee": f"139{i:08d}",
             "hangupDirection": "User", "originateTime": "2025-06-01 09:59:45",
             "ringTime": "2025-06-01 09:59:50"} for i in range(2000)]
    with open(f"{d}/big{run}.json", "w") as f:
        json.dump(recs, f)
PY
start_server callhook big
big=""
for ((run = 0; run < BIG_RUNS; run++)); do
  big+=" $(curl -s -o /dev/null -w '%{http_code}:%{time_total}s' -X POST -H 'Content-Type: application/json' \
    --data-binary "@$work/big$run.json" "$server_url/hooks/aliyun-call-report")"
done
verify $((BIG_RUNS * 2000)) "2,000-record pushes"
stop_server

cat <<EOF

## callhook load benchmark

$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores,
wrk -t$THREADS -c$CONNECTIONS -d$DURATION, Alibaba call-report pushes, database on $(stat -f -c %T "$work").

| scenario | server | req/s | ok pushes/s | records/s | p50 ms | p99 ms | non-2xx | socket errors | peak RSS MiB |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows}
${ratios}
${paced:-Paced run skipped (PACE_RPS=0).}

Ack time of one 2,000-record push (status:seconds):${big}, peak RSS $rss_mib MiB

Stored calls:
${checks}
${notes}
EOF
exit "$failed"
