-- wrk script: POST one JSON body to a path per id (PATH_FORMAT with %s for
-- the id), rotating over a file of ids.
--   wrk -s bench/post_each.lua URL -- IDS_FILE PATH_FORMAT BODY
-- The API key comes from the environment (BENCH_API_KEY); done() prints the
-- WRK_RESULT line bench/lib.sh parses (wrk_common.lua).
local common = dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") ..
                      "wrk_common.lua")
local ids = {}
local next_index = 0
local path_format, body

function init(args)
  ids = common.lines(args[1] or error("usage: wrk -s post_each.lua URL -- IDS_FILE PATH_FORMAT BODY"))
  path_format = args[2] or error("PATH_FORMAT is required")
  body = args[3] or error("BODY is required")
  common.api_key_headers()
  wrk.headers["Content-Type"] = "application/json"
  next_index = math.random(#ids) - 1
end

function request()
  next_index = next_index % #ids + 1
  return wrk.format("POST", string.format(path_format, ids[next_index]), nil, body)
end

done = common.done
