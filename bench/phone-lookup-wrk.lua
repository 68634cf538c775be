-- wrk script for bench/phone-lookup-wrk.sh: each request looks up a random phone of a loaded
-- customer with the bearer token. PHONES_FILE (one phone a line) and KEFU_TOKEN come from the
-- environment so that neither lands in the command line or the results.
local phones = {}
local token = os.getenv("KEFU_TOKEN")

function init(args)
  local path = os.getenv("PHONES_FILE")
  for line in io.lines(path) do
    if #line > 0 then
      phones[#phones + 1] = line
    end
  end
  if #phones == 0 then
    error("no phones in " .. path)
  end
  -- Each wrk thread has its own Lua state: seed differently so threads ask for different phones.
  math.randomseed(os.time() + tonumber(tostring(phones):match("0x(%x+)") or "0", 16))
end

-- THINK_MS > 0 makes every connection wait a random 0 .. 2×THINK_MS before each request, like an
-- agent between calls: 200 connections then offer ~200 000 / THINK_MS look-ups a second instead of
-- as many as the server can take (where the queue, not the look-up, sets the latency).
local think = tonumber(os.getenv("THINK_MS") or "0")
if think > 0 then
  function delay()
    return math.random(0, 2 * think)
  end
end

function request()
  local phone = phones[math.random(#phones)]
  return wrk.format("GET", "/api/v1/customers?phone=" .. phone, {
    ["Authorization"] = "Bearer " .. token,
  })
end

-- Any non-2xx answer counts as an error in the summary, so a broken token cannot pass as speed.
function done(summary, latency, requests)
  io.write(string.format("lua: %d requests, %d non-2xx/3xx, %d socket errors\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
