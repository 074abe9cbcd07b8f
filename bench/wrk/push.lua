-- wrk script for bench/load.sh: POSTs Alibaba call-report pushes (a JSON array
-- of RECORDS records, the aliyun-call-report layout) whose call ids are unique
-- across threads and requests, and prints one RESULT line when done.
--
-- Env: RECORDS   records per push (default 1)
--      RUN_TAG   prefix of every call id, to keep runs apart (default "run")
--      PACE_MS   if > 0, each connection waits about this many ms before each
--                request, so C connections send about C*1000/PACE_MS req/s

local records = tonumber(os.getenv("RECORDS") or "1")
local run_tag = os.getenv("RUN_TAG") or "run"
local pace_ms = tonumber(os.getenv("PACE_MS") or "0")

-- One record shaped like tests/fixtures/aliyun-call-report/sample.json. "@"
-- stands for the request's tag; the call id is "<tag>-<index in the push>".
local record = '{"taskId":"1181000000000001","detailId":"9662000000000%d",'
  .. '"batchId":"B20250601","callId":"@-%d","outId":"%d",'
  .. '"startTime":"2025-06-01 10:00:00","endTime":"2025-06-01 10:05:30","duration":330,'
  .. '"statusCode":"200010","smartStatusCode":"ANSWERED","statusMsg":"Call ended normally",'
  .. '"caller":"057100000000","realCaller":"057188888888","callee":"139%08d",'
  .. '"hangupDirection":"User","originateTime":"2025-06-01 09:59:45",'
  .. '"ringTime":"2025-06-01 09:59:50","bRingTime":"2025-06-01 09:59:52",'
  .. '"bStartTime":"2025-06-01 09:59:55","bEndTime":"2025-06-01 10:05:25",'
  .. '"bDuration":320,"bOriginateTime":"2025-06-01 09:59:48"}'

-- The body is built once and cut at each "@"; a request only joins the pieces
-- with its tag (one table.concat), so wrk stays cheap next to the server.
local items = {}
for i = 0, records - 1 do
  items[#items + 1] = string.format(record, i, i, i, i)
end
local pieces = {}
for piece in ("[" .. table.concat(items, ",") .. "]" .. "@"):gmatch("([^@]*)@") do
  pieces[#pieces + 1] = piece
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

-- setup() runs in the main state once per thread: give each its number.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local sent = 0
function request()
  sent = sent + 1
  local tag = run_tag .. "-" .. thread_id .. "-" .. sent
  return wrk.format(nil, nil, nil, table.concat(pieces, tag))
end

if pace_ms > 0 then
  -- Uniform in [pace/2, 3*pace/2]: mean pace_ms, connections drift apart.
  local lo, hi = math.floor(pace_ms / 2), math.floor(pace_ms * 3 / 2)
  function delay()
    return math.random(lo, hi)
  end
end

-- One machine-readable line for bench/load.sh. wrk counts responses with a
-- status above 399 in errors.status (callhook's 503s); latencies include them.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f non2xx=%d sockerr=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
