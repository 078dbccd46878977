-- wrk script: creates a ticket per request (POST /v1/tickets), each with its
-- own requestId, the requester one of POOL email addresses
-- (customer-N@bench.example, N in 1..POOL).
--   wrk -s bench/ticket.lua URL -- POOL
-- The API key comes from the environment (BENCH_API_KEY); done() prints the
-- WRK_RESULT line bench/lib.sh parses (wrk_common.lua).
local common = dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") ..
                      "wrk_common.lua")
local pool = 1000
local prefix = ""
local counter = 0

function init(args)
  pool = tonumber(args[1] or "1000")
  common.api_key_headers()
  wrk.headers["Content-Type"] = "application/json"
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  prefix = string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"ticket": {"subject": "Order %d arrived damaged", "channel": "TICKET_CHANNEL_EMAIL", ' ..
    '"priority": "TICKET_PRIORITY_NORMAL", "tags": ["damaged", "shipping"]}, ' ..
    '"requesterEmail": "customer-%d@bench.example", "requesterName": "Bench Customer", ' ..
    '"description": "The parcel of order %d arrived with a broken lid. Please send a ' ..
    'replacement or refund the item.", "requestId": "%s-%d"}',
    counter, math.random(1, pool), counter, prefix, counter)
  return wrk.format("POST", "/v1/tickets", nil, body)
end

done = common.done
