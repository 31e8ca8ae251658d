-- resolve.lua — mark a failed migration as rolled back or applied, with a reason (prisma migrate resolve)
--
--   stallrun workflows/resolve.lua --env staging --migration NAME --rolled-back --reason "undid the index by hand"
--   stallrun workflows/resolve.lua --env staging --migration NAME --applied --reason "finished by hand"
--
-- A migration that failed outside one transaction may have left part of its
-- work behind, so deploy stops at it. After you have looked: --rolled-back
-- (nothing of it remains; deploy applies it again, fixed) or --applied (you
-- finished it; deploy goes on past it). Who, when and why are recorded.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local lock = require("stallmig.lock")
local guard = require("stallmig.guard")
local errors = require("stallmig.error")

cli.check_options(ctx, { migration = true, ["rolled-back"] = true, applied = true, reason = true })
local env = cli.require_env(ctx)
local o = ctx.options
local function usage(text) error(errors.new("usage", text), 0) end
if type(o.migration) ~= "string" then usage("--migration NAME is required") end
if (o["rolled-back"] and o.applied) or not (o["rolled-back"] or o.applied) then
  usage("say how it was resolved: --rolled-back or --applied")
end
if type(o.reason) ~= "string" or o.reason:match("^%s*$") then usage("--reason TEXT is required (it is recorded)") end
local outcome = o.applied and "applied" or "rolled_back"

-- 1. The migration must exist and its latest attempt must have failed.
guard.preflight(env.name, "resolve " .. o.migration)
local found = migrations.discover(ctx.config)
local conn <close> = db.connect(env.name)
lock.acquire(conn, env.lock_wait, function(text) io.stderr:write("warning: ", text, "\n") end)
local plan = migrations.plan(found, history.read(conn))
local target
for _, m in ipairs(plan.entries) do if m.name == o.migration then target = m end end
if target == nil or target.row == nil then
  error(errors.new("failed", o.migration .. " has no history in " .. env.name), 0)
end
if target.state ~= "failed" then
  error(errors.new("failed", o.migration .. " is " .. target.state .. ", not failed: nothing to resolve"), 0)
end

-- 2. Confirm on a protected environment, then record it.
guard.confirm(conn, "mark " .. o.migration .. " as " .. outcome:gsub("_", " "))
conn:allow_writes("resolve " .. o.migration .. " as " .. outcome .. ": " .. o.reason)
history.resolve(conn, target, env.name, outcome, o.reason)
if env.prisma_compat then require("stallmig.prisma").resolved(conn, target, outcome) end
lock.release(conn)
print(string.format("%s is now recorded as %s in %s (%s).", o.migration, outcome:gsub("_", " "),
  env.name, o.reason))
