-- wrk script: GET /v1/customers/{id}/view, rotating over a file of ids.
--   wrk -s bench/view.lua URL -- IDS_FILE
-- The API key comes from the environment (BENCH_API_KEY); done() prints the
-- WRK_RESULT line bench/lib.sh parses (wrk_common.lua).
local common = dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") ..
                      "wrk_common.lua")
local ids = {}
local next_index = 0

function init(args)
  ids = common.lines(args[1] or error("usage: wrk -s view.lua URL -- IDS_FILE"))
  common.api_key_headers()
  next_index = math.random(#ids) - 1
end

function request()
  next_index = next_index % #ids + 1
  return wrk.format("GET", "/v1/customers/" .. ids[next_index] .. "/view")
end

done = common.done
