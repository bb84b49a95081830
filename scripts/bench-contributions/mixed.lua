-- One side of scripts/bench-contributions.sh. CLASS=write: POST /api/observations by several editors
-- (the lines of $WRITES: "key<TAB>collectivite id", each editor's own perimeter); CLASS=read: what
-- visitors read meanwhile (indicators, an ATD's to-do list, cards, default-view tiles). Prints one
-- RESULT line like scripts/bench-load/mixed.lua.
local class = os.getenv("CLASS") or "read"
local threads = {}
local writes = {}

function setup(thread) table.insert(threads, thread) end

function init(args)
  math.randomseed(os.time() + math.random(1, 1e6))
  statuses = {}
  if class == "write" then
    for line in io.lines(os.getenv("WRITES")) do
      local key, id = line:match("^(%S+)\t(%S+)$")
      if key then table.insert(writes, { key = key, id = id }) end
    end
  end
end

local reads = { "/api/indicators", "/api/progress", "/api/atd/rennes-metropole/todo?limit=20", "/api/collectivites/COM-35238" }

function request()
  if class == "write" then
    local w = writes[math.random(1, #writes)]
    -- Editors record what they see on the day they see it.
    local body = string.format('{"collectivite":"%s","observedOn":"%s","datasetsLocal":%d,"note":"banc d\'essai"}',
      w.id, os.date("%Y-%m-%d"), math.random(0, 200))
    return wrk.format("POST", "/api/observations", { ["Authorization"] = "Bearer " .. w.key, ["Content-Type"] = "application/json" }, body)
  end
  local r = math.random(1, #reads + 1)
  if r <= #reads then return wrk.format("GET", reads[r]) end
  return wrk.format("GET", string.format("/tiles/communes/8/%d/%d.pbf", math.random(124, 134), math.random(87, 94)))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("statuses")) do counts[s] = (counts[s] or 0) + n end
  end
  local parts = {}
  for s, n in pairs(counts) do table.insert(parts, s .. ":" .. n) end
  table.sort(parts)
  io.write(string.format("RESULT class=%s requests=%d rps=%.0f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f socket_errors=%d statuses=%s\n",
    class, summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ",")))
end
