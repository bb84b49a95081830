-- One class of the mixed load of scripts/bench-load.sh. CLASS=cheap draws among the requests the
-- service must keep answering fast (health, tiles from the store, cached GeoJSON); CLASS=expensive
-- among the ones it limits (OData pages, reports, GeoJSON of communes, tiles rendered on request).
-- Prints one RESULT line: requests, req/s, latency percentiles (ms), status counts, and how many
-- 429/503 came without Retry-After.
local class = os.getenv("CLASS") or "cheap"
local threads = {}

function setup(thread) table.insert(threads, thread) end

function init(args)
  math.randomseed(os.time() + math.random(1, 1e6))
  statuses = {}
  no_retry_after = 0
end

local function cheap()
  local r = math.random(1, 3)
  if r == 1 then return "/health" end
  if r == 2 then return "/api/geo/departements?zoom=5" end
  -- default-view commune tiles at z8 over metropolitan France: read from the tile store
  return string.format("/tiles/communes/8/%d/%d.pbf", math.random(124, 134), math.random(87, 94))
end

local function expensive()
  local r = math.random(1, 4)
  if r == 1 then
    return string.format("/odata/Collectivites?$filter=Population%%20gt%%20%d&$orderby=Population%%20desc&$top=50", math.random(1, 20000))
  end
  if r == 2 then return "/api/reports/regions.csv?format=rfc4180&date=2022-10-" .. math.random(10, 28) end
  if r == 3 then
    local x, y = -1.8 + math.random() * 5, 44 + math.random() * 4
    return string.format("/api/geo/communes?zoom=10&bbox=%.4f,%.4f,%.4f,%.4f", x, y, x + 0.3, y + 0.3)
  end
  -- z12 tiles are rendered by PostGIS on request
  return string.format("/tiles/communes/12/%d/%d.pbf", math.random(2027, 2082), math.random(1428, 1486))
end

function request()
  return wrk.format("GET", class == "cheap" and cheap() or expensive())
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status == 429 or status == 503) and headers["Retry-After"] == nil then no_retry_after = no_retry_after + 1 end
end

function done(summary, latency, requests)
  local counts, missing = {}, 0
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("statuses")) do counts[s] = (counts[s] or 0) + n end
    missing = missing + t:get("no_retry_after")
  end
  local parts = {}
  for s, n in pairs(counts) do table.insert(parts, s .. ":" .. n) end
  table.sort(parts)
  io.write(string.format("RESULT class=%s requests=%d rps=%.0f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f socket_errors=%d statuses=%s no_retry_after=%d\n",
    class, summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ","), missing))
end
