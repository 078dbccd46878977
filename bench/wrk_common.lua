-- Shared by the bench's wrk scripts (view.lua, track.lua), loaded with
-- dofile next to them: the non-empty lines of a file, the API key headers
-- (BENCH_API_KEY from the environment, never argv, so it does not show in
-- the process list) and the WRK_RESULT line bench/lib.sh parses (latencies
-- in microseconds).
local M = {}

function M.lines(path)
  local out = {}
  for line in io.lines(path) do
    if #line > 0 then out[#out + 1] = line end
  end
  if #out == 0 then error("nothing in " .. path) end
  return out
end

function M.api_key_headers()
  local key = os.getenv("BENCH_API_KEY") or error("BENCH_API_KEY is not set")
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["Accept"] = "application/json"
end

function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d " ..
    "errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end

return M
