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
local session = require("stallmig.session")
local report = require("stallmig.report")
local errors = require("stallmig.error")

return report.run(ctx, "resolve", function(out)
  cli.check_options(ctx, { migration = true, ["rolled-back"] = true, applied = true })
  local env = cli.require_env(ctx)
  local o = ctx.options
  local function usage(text) error(errors.new("usage", text), 0) end
  if type(o.migration) ~= "string" then usage("--migration NAME is required") end
  if (o["rolled-back"] and o.applied) or not (o["rolled-back"] or o.applied) then
    usage("say how it was resolved: --rolled-back or --applied")
  end
  if type(ctx.reason) ~= "string" or ctx.reason:match("^%s*$") then usage("--reason TEXT is required (it is recorded)") end
  local outcome = o.applied and "applied" or "rolled_back"

  -- 1. The change: the host takes the deploy lock and reads the history.
  local s <close> = session.open(ctx, { env = env.name, change = "resolve", confirm = "resolve " .. o.migration })

  -- 2. Confirm on a protected environment, then record it (the gate checks
  --    that the migration's latest attempt failed).
  s.change:confirm("mark " .. o.migration .. " as " .. outcome:gsub("_", " "))
  s.change:resolve(o.migration, outcome, ctx.reason)
  out:set("migration", o.migration)
  out:set("outcome", outcome)
  out:set("reason", ctx.reason)
  out:say(string.format("%s is now recorded as %s in %s (%s).", o.migration, outcome:gsub("_", " "),
    env.name, ctx.reason))
  return 0
end)
