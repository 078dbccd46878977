-- wrk script: GET /v1/customers/{id}/view, rotating over a file of ids.
--   wrk -s bench/view.lua URL -- IDS_FILE
-- The API key comes from the environment (BENCH_API_KEY), not argv, so it
-- does not show in the process list. done() prints one machine-readable
-- WRK_RESULT line that bench/lib.sh parses (latencies in microseconds).
local ids = {}
local next_index = 0

function init(args)
  local path = args[1] or error("usage: wrk -s view.lua URL -- IDS_FILE")
  for line in io.lines(path) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  if #ids == 0 then error("no ids in " .. path) end
  local key = os.getenv("BENCH_API_KEY") or error("BENCH_API_KEY is not set")
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["Accept"] = "application/json"
  next_index = math.random(#ids) - 1
end

function request()
  next_index = next_index % #ids + 1
  return wrk.format("GET", "/v1/customers/" .. ids[next_index] .. "/view")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d " ..
    "errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
