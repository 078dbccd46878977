-- wrk script: POST /v1/events:track, rotating over a file of request bodies
-- (one JSON body per line, each a batch of behaviour events).
--   wrk -s bench/track.lua URL -- BODIES_FILE
-- The API key comes from the environment (BENCH_API_KEY). Answers are not
-- parsed here (that would cost the load generator's CPU): the bench script
-- counts the stored events against requests x batch size afterwards. done()
-- prints the WRK_RESULT line bench/lib.sh parses (wrk_common.lua).
local common = dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") ..
                      "wrk_common.lua")
local bodies = {}
local next_index = 0

function init(args)
  bodies = common.lines(args[1] or error("usage: wrk -s track.lua URL -- BODIES_FILE"))
  common.api_key_headers()
  wrk.headers["Content-Type"] = "application/json"
  next_index = math.random(#bodies) - 1
end

function request()
  next_index = next_index % #bodies + 1
  return wrk.format("POST", "/v1/events:track", nil, bodies[next_index])
end

done = common.done
