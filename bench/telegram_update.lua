-- wrk script for ingest_bench.py: POSTs Telegram updates, each with its own update_id, and
-- remembers which update_ids were answered 200 so the benchmark can check every one was stored.
--
-- Run with as many threads as connections (wrk -t16 -c16): each thread then has ONE connection,
-- so the response wrk hands to response() is always the answer to the last request() of that thread.
-- Environment: BENCH_SECRET (the webhook's secret token), BENCH_OUT (file for the answered ids),
-- BENCH_BASE (update_id offset, so several runs against one database never collide).

local counter = 0
local threads = {}
local base = tonumber(os.getenv("BENCH_BASE") or "0")
local secret = os.getenv("BENCH_SECRET") or "bench-secret"

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  next_id = base + id * 10000000
  last_id = nil
  ok_ids = {}
  other = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = secret
end

function request()
  next_id = next_id + 1
  last_id = next_id
  local body = string.format(
    '{"update_id":%d,"message":{"message_id":%d,"date":1764547200,' ..
    '"chat":{"id":%d,"type":"private","first_name":"Bench"},' ..
    '"from":{"id":%d,"is_bot":false,"first_name":"Bench","language_code":"zh-hans"},' ..
    '"text":"\\u697c\\u9053\\u706f\\u574f\\u4e86"}}',
    next_id, next_id, 700000 + id, 700000 + id)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 then
    ok_ids[#ok_ids + 1] = last_id
  else
    other[#other + 1] = status
  end
end

function done(summary, latency, requests)
  local path = os.getenv("BENCH_OUT")
  if not path then return end
  local f = io.open(path, "w")
  for _, thread in ipairs(threads) do
    local ids = thread:get("ok_ids")
    for _, v in ipairs(ids) do f:write(string.format("%d\n", v)) end
    local others = thread:get("other")
    for _, s in ipairs(others) do f:write(string.format("status %d\n", s)) end
  end
  f:close()
end
