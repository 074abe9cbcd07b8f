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

-- Records shaped like tests/fixtures/aliyun-call-report/sample.json, with
-- realistic spread: random customer numbers and out_ids, 400 task ids, start
-- times over 90 days (UTC+8 wall clock, as Alibaba sends), random outcomes
-- and durations. TEMPLATES bodies are made once per thread and cut at each
-- "@" (the request's tag); the call id is "<tag>-<index in the push>", so
-- every call is new while a request only joins pieces (cheap next to the
-- server).
local TEMPLATES = 32
local outcomes = {"ANSWERED", "ANSWERED", "ANSWERED", "NO_ANSWER", "BUSY", "POWER_OFF", "REJECTED"}
local record = '{"taskId":"T%04d","detailId":"%d","batchId":"B%04d","callId":"@-%d","outId":"o%d",'
  .. '"startTime":"%s","endTime":"%s","duration":%d,'
  .. '"statusCode":"200010","smartStatusCode":"%s","statusMsg":"Call ended normally",'
  .. '"caller":"057100000000","realCaller":"0571%08d","callee":"1%010d",'
  .. '"hangupDirection":"User","originateTime":"%s","ringTime":"%s"}'

local function stamp(t)
  return os.date("!%Y-%m-%d %H:%M:%S", t)
end

local function template()
  local items = {}
  for i = 0, records - 1 do
    local t = 1735660800 + math.random(0, 90 * 86400) -- 2025-01-01 + 90 days
    local dur = math.random(0, 600)
    items[#items + 1] = string.format(record, math.random(0, 399), math.random(1, 1e9),
      math.random(0, 999), i, math.random(1, 1e9), stamp(t + 10), stamp(t + 10 + dur), dur,
      outcomes[math.random(#outcomes)], math.random(0, 99999999), math.random(0, 9999999999),
      stamp(t), stamp(t + 5))
  end
  local pieces = {}
  for piece in ("[" .. table.concat(items, ",") .. "]" .. "@"):gmatch("([^@]*)@") do
    pieces[#pieces + 1] = piece
  end
  return pieces
end

local bodies = nil

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
  if bodies == nil then
    math.randomseed(thread_id * 7919 + os.time())
    bodies = {}
    for k = 1, TEMPLATES do
      bodies[k] = template()
    end
  end
  sent = sent + 1
  local tag = run_tag .. "-" .. thread_id .. "-" .. sent
  return wrk.format(nil, nil, nil, table.concat(bodies[sent % TEMPLATES + 1], tag))
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
