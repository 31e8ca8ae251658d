-- status.lua — every migration with its state; exit 1 unless up to date (prisma migrate status)
--
--   stallrun workflows/status.lua --env staging [--json]
--
-- Read-only: it never creates the history table or takes the deploy lock.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local report = require("stallmig.report")
local json = require("stallmig.json")
local matrix = require("stallmig.matrix")

-- --env all: one matrix, migrations down the side, environments across.
local function status_all(ctx, out)
  local found = migrations.discover(ctx.config)
  local m = matrix.read(ctx, found)
  local header = string.format("%-44s", "migration")
  for _, e in ipairs(m.envs) do header = header .. string.format(" %-12s", e.name) end
  out:say(header)
  local in_sync = true
  for _, row in ipairs(m.rows) do
    local line = string.format("%-44s", row.name)
    for _, e in ipairs(m.envs) do
      local state = row.states[e.name]
      line = line .. string.format(" %-12s", state)
      in_sync = in_sync and state == "applied"
    end
    out:say(line)
  end
  for _, e in ipairs(m.envs) do
    if e.error then out:say(e.name .. ": unreachable (" .. e.error .. ")") in_sync = false end
  end
  out:set("environments", m.envs)
  out:set("migrations", m.rows)
  out:set("ok", in_sync)
  return in_sync and 0 or 1
end

return report.run(ctx, "status", function(out)
  cli.check_options(ctx, {})
  if ctx.env == "all" then return status_all(ctx, out) end
  local env = cli.require_env(ctx)

  -- 1. The folder and the history, joined by folder name.
  local scan <close> = migrations.scan(ctx.config)
  local conn <close> = db.connect(env.name)
  local found, warnings = migrations.discover(ctx.config, scan)
  for _, w in ipairs(warnings) do out:warn(w) end
  local plan = migrations.plan(found, history.read(conn, true))

  -- 2. One row per migration: state, when it was applied, how long it took.
  local rows = json.array()
  out:say(string.format("%-50s %-9s %-20s %s", "migration", "state", "applied at (UTC)", "took"))
  for _, m in ipairs(plan.entries) do
    local row = m.row or {}
    local applied_at = m.state ~= "pending" and row.finished_at or nil
    local took = row.duration_ms and report.ms(row.duration_ms / 1000) or ""
    out:say(string.format("%-50s %-9s %-20s %s", m.name, m.state, applied_at or "", took))
    rows[#rows + 1] = { name = m.name, state = m.state, applied_at = applied_at,
      duration_ms = row.duration_ms, error = row.outcome == "failed" and row.error or nil }
  end

  -- 3. Up to date means every migration applied: anything else exits 1 (CI gates on it).
  local c = plan.counts
  local up_to_date = #plan.entries == (c.applied or 0)
  out:set("migrations", rows)
  out:set("counts", { applied = c.applied or 0, pending = c.pending or 0, failed = c.failed or 0,
    modified = c.modified or 0, missing = c.missing or 0 })
  out:set("up_to_date", up_to_date)
  out:set("ok", up_to_date)
  out:say(string.format("%s: %d applied, %d pending, %d failed, %d modified, %d missing.",
    env.name, c.applied or 0, c.pending or 0, c.failed or 0, c.modified or 0, c.missing or 0))
  return up_to_date and 0 or 1
end)
