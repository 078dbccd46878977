-- wrk script: POST /v1/events:track, rotating over a file of request bodies
-- (one JSON body per line, each a batch of behaviour events).
--   wrk -s bench/track.lua URL -- BODIES_FILE
-- The API key comes from the environment (BENCH_API_KEY). Answers are not
-- parsed here (that would cost the load generator's CPU): the bench script
-- counts the stored events against requests x batch size afterwards. done()
-- prints the WRK_RESULT line bench/lib.sh parses (latencies in microseconds).
local bodies = {}
local next_index = 0

function init(args)
  local path = args[1] or error("usage: wrk -s track.lua URL -- BODIES_FILE")
  for line in io.lines(path) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  if #bodies == 0 then error("no bodies in " .. path) end
  local key = os.getenv("BENCH_API_KEY") or error("BENCH_API_KEY is not set")
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  next_index = math.random(#bodies) - 1
end

function request()
  next_index = next_index % #bodies + 1
  return wrk.format("POST", "/v1/events:track", nil, bodies[next_index])
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
