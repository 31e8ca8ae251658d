-- drift.lua — does the database match what its migrations produce? (read-only)
--
--   stallrun workflows/drift.lua --env staging [--json]
--
-- Replays the applied migrations on a shadow database (dropped afterwards,
-- also on failure or Ctrl-C) and names every difference: a column added by
-- hand, an index dropped in an emergency, a prototype pushed and forgotten.
-- Exit 0 when there is none, 1 when there is drift.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local drift = require("stallmig.drift")
local report = require("stallmig.report")
local json = require("stallmig.json")

return report.run(ctx, "drift", function(out)
  cli.check_options(ctx, {})
  local env = cli.require_env(ctx)

  -- 1. The folder, the history, and what is applied.
  local found = migrations.discover(ctx.config)
  local conn <close> = db.connect(env.name)
  local plan = migrations.plan(found, history.read(conn))

  -- 2. Replay and compare.
  local diffs = drift.check(conn, env, found, plan)
  out:set("differences", json.array(diffs))
  out:set("ok", #diffs == 0)
  if #diffs == 0 then
    out:say(env.name .. " matches its " .. (plan.counts.applied or 0) .. " applied migration(s).")
    return 0
  end
  out:say(env.name .. " has drifted from its migrations (" .. #diffs .. " difference(s)):")
  for _, d in ipairs(diffs) do out:say("  " .. d) end
  return 1
end)
