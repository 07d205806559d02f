-- wrk script for ingest_bench.py --channels sms: POSTs signed Twilio SMS webhooks, each with its own
-- MessageSid, and remembers which were answered 200 so the benchmark can check every one was stored.
--
-- The signatures (HMAC-SHA1 over the URL and the sorted fields) are computed beforehand by
-- ingest_bench.py, one file per wrk thread: BENCH_SMS_FILES .. "-" .. thread id, each line
-- "<sid number>\t<X-Twilio-Signature>\t<form body>". A thread that runs out starts its file again
-- (a repeated MessageSid is a provider's retry: stored once, answered 200).
-- Run with as many threads as connections (wrk -t16 -c16), as telegram_update.lua.
-- Environment: BENCH_SMS_FILES, BENCH_OUT (file for the answered sid numbers).

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  rows = {}
  for line in io.lines(os.getenv("BENCH_SMS_FILES") .. "-" .. id) do
    local n, sig, body = string.match(line, "^(%d+)\t([^\t]+)\t(.*)$")
    rows[#rows + 1] = {n, sig, body}
  end
  next_row = 0
  last_n = nil
  ok_ids = {}
  other = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  next_row = next_row % #rows + 1
  local row = rows[next_row]
  last_n = row[1]
  wrk.headers["X-Twilio-Signature"] = row[2]
  return wrk.format(nil, nil, nil, row[3])
end

function response(status, headers, body)
  if status == 200 then
    ok_ids[#ok_ids + 1] = last_n
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
    for _, v in ipairs(ids) do f:write(v .. "\n") end
    local others = thread:get("other")
    for _, s in ipairs(others) do f:write(string.format("status %d\n", s)) end
  end
  f:close()
end
