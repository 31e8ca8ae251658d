-- rollback.lua — undo the most recent migrations with their down.sql (the rollback plan)
--
--   stallrun workflows/rollback.lua --env staging --steps 2
--   stallrun workflows/rollback.lua --env staging --to 20240205110000_add_listings
--
-- Newest first, each down.sql in one transaction with its history row
-- (recorded as rolled back: deploy applies the migration again). Refuses
-- before anything when one of them has no down.sql. On a protected
-- environment it asks for confirmation and takes a backup first.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local lock = require("stallmig.lock")
local guard = require("stallmig.guard")
local backup = require("stallmig.backup")
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
lock.acquire(conn, env.lock_wait, function(text) io.stderr:write("warning: ", text, "\n") end)
local plan = migrations.plan(found, history.read(conn))
local chosen = rollback.select(plan, steps, to)
if #chosen == 0 then print("Nothing to roll back.") return 0 end
rollback.load(chosen, found)

-- 2. Confirm, and on a protected environment back up first.
local what = "roll back " .. #chosen .. " migration(s)"
guard.confirm(conn, what)
if env.protected or env.backup then
  local b = backup.take(ctx, env, plan)
  print(string.format("Backed up %s to %s (%d bytes, verified).", env.name, b.file, b.size))
end
conn:allow_writes("rollback: " .. what)

-- 3. Undo, newest first.
for _, m in ipairs(chosen) do
  rollback.undo(conn, m, env.name, env.prisma_compat)
  print("  - " .. m.name .. " rolled back")
end
lock.release(conn)
print(string.format("Rolled back %d migration(s) on %s.", #chosen, env.name))
