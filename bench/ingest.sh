#!/usr/bin/env bash
# Ingest benchmark: time to acknowledge a 2,000-record push, and durable
# pushes per second on one connection. Usage: bench/ingest.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
./target/release/callhook serve --listen "127.0.0.1:$port" --database "sqlite://$dir/bench.db" 2>"$dir/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
for run in range(5):
    recs = [{"taskId": "T1", "batchId": "B1", "callId": f"big-{run}-{i}", "outId": str(i),
             "startTime": "2025-06-01 10:00:00", "endTime": "2025-06-01 10:05:30", "duration": 330,
             "statusCode": "200010", "smartStatusCode": "ANSWERED", "statusMsg": "Call ended normally",
             "caller": "057100000000", "realCaller": "057188888888", "callee": f"139{i:08d}",
             "hangupDirection": "User", "originateTime": "2025-06-01 09:59:45",
             "ringTime": "2025-06-01 09:59:50"} for i in range(2000)]
    open(f"{d}/big{run}.json", "w").write(json.dumps(recs))
PY
echo "== time to acknowledge one 2,000-record Alibaba push (5 runs, seconds)"
for run in 0 1 2 3 4; do
  curl -s -o /dev/null -w "%{http_code} %{time_total}\n" -X POST \
    -H 'Content-Type: application/json' --data-binary "@$dir/big$run.json" \
    "http://127.0.0.1:$port/hooks/aliyun-call-report"
done

cat > "$dir/one.lua" <<'LUA'
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format('[{"callId":"one-%d-%d","smartStatusCode":"ANSWERED","startTime":"2025-06-01 10:00:00","duration":30,"callee":"13900000000"}]', math.random(1, 1e9), n)
  return wrk.format(nil, "/hooks/aliyun-call-report", nil, body)
end
LUA
echo "== 1-record pushes on one connection for ${secs}s (each answered after its commit)"
wrk -t1 -c1 -d"${secs}s" --latency -s "$dir/one.lua" "http://127.0.0.1:$port" | grep -E "Requests/sec|Latency|50%|99%|requests in"
echo "== peak RSS of callhook (KiB): $(grep VmHWM /proc/$pid/status | awk '{print $2}')"
