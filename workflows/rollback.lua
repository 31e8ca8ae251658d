-- rollback.lua — undo the most recent migrations with their down.sql (the rollback plan)
--
--   stallrun workflows/rollback.lua --env staging --steps 2
--   stallrun workflows/rollback.lua --env staging --to 20240205110000_add_listings
--
-- Newest first, each down.sql in one transaction with its history row
-- (recorded as rolled back: deploy applies the migration again). Refuses
-- before anything when one of them has no down.sql. The host's change gate
-- asks for confirmation on a protected environment, backs up first, and
-- refuses a down.sql that would lose data there unless --accept-data-loss
-- --reason is given (rollback.run, lua/stallmig/rollback.lua).
local ctx = ...
local cli = require("stallmig.cli")
local rollback = require("stallmig.rollback")
local report = require("stallmig.report")
local errors = require("stallmig.error")

return report.run(ctx, "rollback", function(out)
  cli.check_options(ctx, { steps = true, to = true })
  local env = cli.require_env(ctx)
  local steps, to = tonumber(ctx.options.steps), ctx.options.to
  if ctx.options.steps and (not steps or steps < 1 or steps % 1 ~= 0) then
    error(errors.new("usage", "--steps takes a whole number of migrations, 1 or more"), 0)
  end
  if (steps and to) or not (steps or type(to) == "string") then
    error(errors.new("usage", "say what to undo: --steps N or --to MIGRATION"), 0)
  end
  rollback.run(ctx, env.name, { steps = steps and math.tointeger(steps), to = to, out = out })
  return 0
end)
