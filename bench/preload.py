"""Bodies for bench/load.sh's preload: `python3 bench/preload.py K N` prints
N realistic Alibaba call-report records as NDJSON bodies of 50 records
(one push per line, as `callhook import` reads them), with call ids
`pre-K-<n>`: random customer numbers and out_ids, 400 task ids, start
times over 90 days, random outcomes and durations (as bench/wrk/push.lua).
"""

import json
import random
import sys
import time

k, n = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(k)
OUTCOMES = ["ANSWERED", "ANSWERED", "ANSWERED", "NO_ANSWER", "BUSY", "POWER_OFF", "REJECTED"]


def stamp(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


out = sys.stdout
batch = []
for i in range(n):
    t = 1735660800 + rng.randrange(90 * 86400)
    dur = rng.randrange(601)
    batch.append({
        "taskId": f"T{rng.randrange(400):04d}", "detailId": str(rng.randrange(10**9)),
        "batchId": f"B{rng.randrange(1000):04d}", "callId": f"pre-{k}-{i}",
        "outId": f"o{rng.randrange(10**9)}", "startTime": stamp(t + 10),
        "endTime": stamp(t + 10 + dur), "duration": dur, "statusCode": "200010",
        "smartStatusCode": rng.choice(OUTCOMES), "statusMsg": "Call ended normally",
        "caller": "057100000000", "realCaller": f"0571{rng.randrange(10**8):08d}",
        "callee": f"1{rng.randrange(10**10):010d}", "hangupDirection": "User",
        "originateTime": stamp(t), "ringTime": stamp(t + 5),
    })
    if len(batch) == 50:
        out.write(json.dumps(batch, separators=(",", ":")) + "\n")
        batch = []
if batch:
    out.write(json.dumps(batch, separators=(",", ":")) + "\n")
