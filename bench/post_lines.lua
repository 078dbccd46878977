-- wrk script: POST each line of a file (a JSON body) to one path, in turn.
--   wrk -s bench/post_lines.lua URL -- BODIES_FILE PATH
-- The API key comes from the environment (BENCH_API_KEY); done() prints the
-- WRK_RESULT line bench/lib.sh parses (wrk_common.lua).
local common = dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") ..
                      "wrk_common.lua")
local bodies = {}
local next_index = 0
local path

function init(args)
  bodies = common.lines(args[1] or error("usage: wrk -s post_lines.lua URL -- BODIES_FILE PATH"))
  path = args[2] or error("PATH is required")
  common.api_key_headers()
  wrk.headers["Content-Type"] = "application/json"
  next_index = math.random(#bodies) - 1
end

function request()
  next_index = next_index % #bodies + 1
  return wrk.format("POST", path, nil, bodies[next_index])
end

done = common.done
