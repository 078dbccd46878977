-- wrk script: GET /v1/customers/{id}/view (or another path, PATH_FORMAT with
-- %s for the id), rotating over a file of ids.
--   wrk -s bench/view.lua URL -- IDS_FILE [PATH_FORMAT]
-- The API key comes from the environment (BENCH_API_KEY); done() prints the
-- WRK_RESULT line bench/lib.sh parses (wrk_common.lua).
local common = dofile((debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./") ..
                      "wrk_common.lua")
local ids = {}
local next_index = 0
local path_format = "/v1/customers/%s/view"

function init(args)
  ids = common.lines(args[1] or error("usage: wrk -s view.lua URL -- IDS_FILE [PATH_FORMAT]"))
  path_format = args[2] or path_format
  common.api_key_headers()
  next_index = math.random(#ids) - 1
end

function request()
  next_index = next_index % #ids + 1
  return wrk.format("GET", string.format(path_format, ids[next_index]))
end

done = common.done
