#!/usr/bin/env bash
# Scale-out benchmark: callhook on PostgreSQL with one and with two
# instances on one database, beside callhook on SQLite, under wrk with 1- and
# 50-record Alibaba call-report pushes. With two instances, one wrk drives
# each (half the connections each) at the same time and the results are
# summed. Every run gets a fresh database; afterwards the calls stored are
# checked against the pushes acknowledged. Prints a markdown table.
#
# Env: POSTGRES (postgres://postgres@127.0.0.1:5432/postgres, the server to
#      create databases on), DURATION (10s), CONNECTIONS (64).
set -euo pipefail
cd "$(dirname "$0")/.."

POSTGRES=${POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
for tool in wrk curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
cargo build --release --quiet --bin callhook

work=$(mktemp -d "$PWD/target/bench-scale.XXXXXX")
pids=() dbs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${dbs[@]}"; do psql -q "$POSTGRES" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start URL DATABASE: starts callhook serve, appends its pid to pids.
start() {
  target/release/callhook serve --listen "${1#http://}" --database "$2" --log-format json \
    >"$work/${1##*:}.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf -o /dev/null "$1/healthz" && return 0; sleep 0.1; done
  echo "callhook did not come up:" >&2; cat "$work/${1##*:}.log" >&2; exit 1
}

stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
}

rows=""
failed=0
# scenario LABEL DATABASE INSTANCES RECORDS
scenario() {
  local label=$1 database=$2 n=$3 records=$4 urls=() outs=()
  for ((i = 0; i < n; i++)); do
    urls+=("http://127.0.0.1:$(free_port)")
    start "${urls[i]}" "$database"
  done
  for ((i = 0; i < n; i++)); do
    outs+=("$work/$label-$records-$i.wrk")
    RECORDS=$records RUN_TAG="$label-$i" PACE_MS=0 wrk -t1 -c$((CONNECTIONS / n)) -d"$DURATION" --latency \
      -s bench/wrk/push.lua "${urls[i]}/hooks/aliyun-call-report" >"${outs[i]}" &
  done
  wait $(jobs -p | grep -v -x -F "$(printf '%s\n' "${pids[@]}")") 2>/dev/null || true
  local stored
  stored=$(curl -sf "${urls[0]}/api/v1/stats?group_by=vendor" |
    python3 -c 'import json, sys; print(sum(r["calls"] for r in json.load(sys.stdin)["rows"]))')
  stop_all
  local line
  line=$(python3 - "$records" "$stored" "${outs[@]}" <<'PY'
import sys
records, stored, outs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
req = ok = 0; secs = 0.0; p50 = []; p99 = []; non2xx = 0
for path in outs:
    kv = dict(x.split("=") for x in open(path).read().split("RESULT ")[1].split())
    r, n2 = int(kv["requests"]), int(kv["non2xx"])
    req += r; ok += r - n2; non2xx += n2; secs = max(secs, float(kv["seconds"]))
    p50.append(float(kv["p50_ms"])); p99.append(float(kv["p99_ms"]))
check = "ok" if stored >= ok * records else "MISSING CALLS"
print(f"{req / secs:.0f} | {ok * records / secs:.0f} | {max(p50):.2f} | {max(p99):.2f} | {non2xx} | {stored} stored, {ok * records} acknowledged: {check}")
PY
)
  [[ $line == *MISSING* ]] && failed=1
  rows+="| $records rec | $label | $n | $line |"$'\n'
}

for records in 1 50; do
  scenario sqlite "sqlite://$work/r$records.db" 1 "$records"
  for n in 1 2; do
    db="callhook_bench_$(date +%s%N)"
    psql -q "$POSTGRES" -c "CREATE DATABASE $db" >/dev/null
    dbs+=("$db")
    scenario postgres "${POSTGRES%/*}/$db" "$n" "$records"
  done
done

cat <<EOF

## callhook scale-out benchmark

$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores,
$CONNECTIONS connections in all for $DURATION, Alibaba call-report pushes; wrk, callhook and the
database share the machine.

| pushes | store | instances | req/s | records/s | p50 ms (worst) | p99 ms (worst) | non-2xx | check |
|---|---|---:|---:|---:|---:|---:|---:|---|
$rows
EOF
exit "$failed"
