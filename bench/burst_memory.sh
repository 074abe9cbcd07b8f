#!/usr/bin/env bash
# Memory under a burst of large pushes: BURST (24) concurrent ITNIO pushes
# of about 8 MiB each, every one a single call with TURNS (182,000)
# transcript lines, against `callhook serve` on SQLite. A push answered 503
# (the in-flight memory budget is spent) is retried after its Retry-After,
# as a vendor would, until every push is acknowledged.
#
# Reports: the pushes' answers (200s and 503s), the time until all were
# acknowledged, peak RSS (VmHWM), and RSS once the burst and its projection
# are over (after SETTLE seconds idle: memory returned to the system).
#
# Env: BURST (24), TURNS (182000), SETTLE (5).
set -euo pipefail
cd "$(dirname "$0")/.."

BURST=${BURST:-24}
TURNS=${TURNS:-182000}
SETTLE=${SETTLE:-5}

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
cargo build --release --quiet --bin callhook

work=$(mktemp -d "$PWD/target/bench-burst.XXXXXX")
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$work/server.log"
target/release/callhook serve --listen "127.0.0.1:$port" \
  --database "sqlite://$work/callhook.db" --log-format json >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.1
done

python3 - "$port" "$BURST" "$TURNS" "$server_pid" "$SETTLE" <<'PYTHON'
import http.client, json, sys, threading, time

port, burst, turns, pid, settle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])

def status_kib(field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise SystemExit(f"no {field} in /proc/{pid}/status")

def body(n):
    # Just under the 8 MiB body limit whatever TURNS is: the lines' text is
    # padded to fill it (about 46 bytes a line for 182,000).
    head = '[{"callId":"burst-%d","resultStatus":"ANSWERED","startTime":1748754000,"endTime":1748754050,"callDetailList":[' % n
    room = (8 * 1024 * 1024 - 4096 - len(head)) // turns - len('{"text":"","type":"PERSON"},')
    pad = "x" * max(room - 7, 0)
    lines = ",".join(
        '{"text":"%07d%s","type":"%s"}' % (i, pad, "ROBOT" if i % 2 else "PERSON") for i in range(turns)
    )
    return (head + lines + "]}]").encode()

bodies = [body(n) for n in range(burst)]
answers = {}
failures = []
lock = threading.Lock()

def push(n):
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", "/hooks/itnio-call-record", bodies[n], {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            status, wait = resp.status, float(resp.getheader("Retry-After", "1"))
        except OSError:
            # Refused on its Content-Length before the body was read: the
            # server answered 503 and closed while this was still sending.
            status, wait = "closed", 1.0
        finally:
            conn.close()
        with lock:
            answers[status] = answers.get(status, 0) + 1
        if status == 200:
            return
        if status not in (503, "closed"):
            with lock:
                failures.append(f"push {n}: HTTP {status}")
            return
        time.sleep(min(wait, 1.0))

rss_before = status_kib("VmRSS")
t0 = time.time()
threads = [threading.Thread(target=push, args=(n,)) for n in range(burst)]
for t in threads:
    t.start()
for t in threads:
    t.join()
took = time.time() - t0
if failures:
    raise SystemExit("\n".join(failures))

def pending():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/readyz")
    return json.loads(conn.getresponse().read())["projection"]["pending_records"]

while pending() > 0:
    time.sleep(0.1)
time.sleep(settle)
size_mib = len(bodies[0]) / 1048576
print(f"| pushes | body MiB | answers | all acknowledged | RSS before | peak RSS | RSS {settle:.0f} s after |")
print("|---|---|---|---|---|---|---|")
print(f"| {burst} | {size_mib:.1f} | {', '.join(f'{k}: {v}' for k, v in sorted(answers.items(), key=str))} "
      f"| {took:.1f} s | {rss_before / 1024:.0f} MiB | {status_kib('VmHWM') / 1024:.0f} MiB "
      f"| {status_kib('VmRSS') / 1024:.0f} MiB |")
PYTHON
