-- rollback.lua — undo the most recent migrations with their down.sql (the rollback plan)
--
--   stallrun workflows/rollback.lua --env staging --steps 2
--   stallrun workflows/rollback.lua --env staging --to 20240205110000_add_listings
--
-- Newest first, each down.sql in one transaction with its history row
-- (recorded as rolled back: deploy applies the migration again). Refuses
-- before anything when one of them has no down.sql. The host's change gate
-- asks for confirmation on a protected environment, backs up first where
-- backup = true, and refuses a down.sql that would lose data there unless
-- --accept-data-loss --reason is given.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local guard = require("stallmig.guard")
local rollback = require("stallmig.rollback")
local errors = require("stallmig.error")

cli.check_options(ctx, { steps = true, to = true })
local env = cli.require_env(ctx)
local steps, to = tonumber(ctx.options.steps), ctx.options.to
if ctx.options.steps and (not steps or steps < 1 or steps % 1 ~= 0) then
  error(errors.new("usage", "--steps takes a whole number of migrations, 1 or more"), 0)
end
if (steps and to) or not (steps or type(to) == "string") then
  error(errors.new("usage", "say what to undo: --steps N or --to MIGRATION"), 0)
end

-- 1. Which migrations, newest first, and every down.sql read before anything runs.
guard.preflight(env.name, "roll back migrations")
local found = migrations.discover(ctx.config)
local conn <close> = db.connect(env.name)
local change <close> = conn:begin_change("rollback")
local chosen = rollback.select(change:plan({ entries = true }), steps, to)
if #chosen == 0 then print("Nothing to roll back.") return 0 end
rollback.load(chosen, found)

-- 2. Before asking anyone: the gate refuses a down.sql that would lose data
--    on a protected environment (unless --accept-data-loss --reason).
for _, m in ipairs(chosen) do change:check_undo(m.name) end

-- 3. Confirm, and back up first: where backup = true the gate insists; on
--    any protected environment this script asks for one too.
local what = "roll back " .. #chosen .. " migration(s)"
change:confirm(what)
local b = change:backup(env.protected)
if b then print(string.format("Backed up %s to %s (%d bytes, verified).", env.name, b.file, b.size)) end

-- 4. Undo, newest first (the gate runs each down.sql and records it).
for _, m in ipairs(chosen) do
  change:undo(m.name)
  print("  - " .. m.name .. " rolled back")
end
print(string.format("Rolled back %d migration(s) on %s.", #chosen, env.name))
