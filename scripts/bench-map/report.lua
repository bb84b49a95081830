-- Shared by the wrk runs of scripts/bench-map.sh: one summary line in milliseconds.
-- MODE=nocache sends "Cache-Control: no-cache": the output cache does not answer, the endpoint
-- computes the answer (and the cache keeps one copy per URL, as with real visitors).
-- MODE=unique appends a unique query parameter to every request instead (the endpoints ignore
-- unknown parameters): every answer is stored anew, so the cache fills up and evicts as it goes.
-- TILES="z xmin xmax ymin ymax" draws a random tile of that range per request.
local mode = os.getenv("MODE") or "fixed"
local tiles = os.getenv("TILES")
local query = os.getenv("QUERY")   -- e.g. "obliged=true": appended to every tile request
local z, xmin, xmax, ymin, ymax
if tiles then z, xmin, xmax, ymin, ymax = tiles:match("(%d+) (%d+) (%d+) (%d+) (%d+)") end
local counter = 0
local statuses = {}

function setup(thread) thread:set("id", math.random(1, 1e9)) end

function request()
  counter = counter + 1
  local path = wrk.path
  if tiles then
    path = string.format("/tiles/%s/%d/%d/%d.pbf", os.getenv("LAYER") or "communes", z, math.random(xmin, xmax), math.random(ymin, ymax))
    if query then path = path .. "?" .. query end
  end
  if mode == "unique" then
    local sep = path:find("?", 1, true) and "&" or "?"
    path = string.format("%s%s_=%d-%d", path, sep, id or 0, counter)
  end
  if mode == "nocache" then return wrk.format("GET", path, { ["Cache-Control"] = "no-cache" }) end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d rps=%.0f mean_ms=%.2f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f bytes_per_req=%.0f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency.mean / 1000, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000, summary.bytes / math.max(summary.requests, 1)))
end
