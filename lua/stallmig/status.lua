-- stallmig.status — which migration is where, as data. Read-only: it never
-- creates the history table or takes the deploy lock.
--
--   local st = status.run(ctx, "staging")     -- st.up_to_date, st.counts, st.migrations
--   local all = status.all(ctx)               -- every environment of stallmig.ini
local session = require("stallmig.session")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local json = require("stallmig.json")

local status = {}

local COUNTED = { "applied", "expanded", "pending", "failed", "modified", "missing" }

-- Up to date, as the history digest vouches: the `recent` migrations
-- applied last, and how many there are in all.
local function up_to_date(s, recent)
  local rows = json.array()
  for _, r in ipairs(history.recent_from(s.recent, recent)) do
    rows[#rows + 1] = { name = r.name, state = "applied", applied_at = r.finished_at,
      duration_ms = r.duration_ms }
  end
  return { environment = s.env.name, up_to_date = true, total = s.current, recent = true,
    counts = { applied = s.current, expanded = 0, pending = 0, failed = 0, modified = 0, missing = 0 },
    migrations = rows, warnings = json.array() }
end

-- status.run(ctx, env_name [, opts]) -> {environment, up_to_date, counts =
-- {applied, expanded, pending, failed, modified, missing}, total, migrations =
-- {{name, state, applied_at, duration_ms, error}}, warnings}. Up to date
-- means every migration applied (an expanded one, docs/zero-downtime.md,
-- waits for its contract: not up to date). opts.recent = K: when everything is
-- applied (the history digest says so: no history row read but K),
-- `migrations` holds only the K applied last and `recent` is true;
-- otherwise every migration. Raises when the environment cannot be reached.
function status.run(ctx, env_name, opts)
  opts = opts or {}
  local s <close> = session.open(ctx, { env = env_name, detailed = true, current = opts.recent })
  if s.current then return up_to_date(s, opts.recent) end
  local rows, counts = json.array(), {}
  for _, state in ipairs(COUNTED) do counts[state] = s.plan.counts[state] or 0 end
  for _, m in ipairs(s.plan.entries) do
    local row = m.row or {}
    local shown = m.state ~= "pending"        -- a pending one has no time of its own
    rows[#rows + 1] = { name = m.name, state = m.state,
      applied_at = shown and row.finished_at or nil, duration_ms = shown and row.duration_ms or nil,
      error = row.outcome == "failed" and row.error or nil }
  end
  return { environment = s.env.name, up_to_date = #s.plan.entries == counts.applied, counts = counts,
    total = #s.plan.entries, migrations = rows, warnings = json.array(s.warnings or {}) }
end

-- status.all(ctx) -> {environments = {{name, error}}, migrations = {{name,
-- states = {env -> state}}}, in_sync}: every environment at once; one that
-- cannot be read is marked unreachable instead of failing the whole.
function status.all(ctx)
  local found = migrations.discover(ctx.config)
  local m = require("stallmig.matrix").read(ctx, found)   -- loaded for --env all only
  local in_sync = true
  for _, row in ipairs(m.rows) do
    for _, e in ipairs(m.envs) do in_sync = in_sync and row.states[e.name] == "applied" end
  end
  for _, e in ipairs(m.envs) do if e.error then in_sync = false end end
  return { environments = m.envs, migrations = m.rows, in_sync = in_sync }
end

return status
