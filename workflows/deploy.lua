-- deploy.lua — apply pending migrations in order (prisma migrate deploy)
--
--   stallrun workflows/deploy.lua --env staging [--json]
--   stallrun workflows/deploy.lua --env prod --yes      # CI: --yes confirms
--
-- Copy this file to make a release script of your own. The runbook's rules
-- are not steps here that a copy could leave out: the host's change gate
-- (conn:begin_change) holds the deploy lock, refuses edited or missing
-- migrations, takes only what promote_from's environment has applied,
-- refuses data loss the review measured on a protected environment, asks
-- for confirmation, and backs up first where backup = true. A step this
-- script forgot would be refused, naming the call to make.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local deploy = require("stallmig.deploy")
local guard = require("stallmig.guard")
local report = require("stallmig.report")
local sys = require("stallmig.sys")
local json = require("stallmig.json")

return report.run(ctx, "deploy", function(out)
  cli.check_options(ctx, {})
  local env = cli.require_env(ctx)

  -- 1. A protected environment needs a confirmation: with no terminal to ask
  --    on (CI) and no --yes, stop before connecting.
  guard.preflight(env.name, "apply migrations")

  -- 2. Read the migrations folder (in the background while we connect).
  local scan <close> = migrations.scan(ctx.config)
  local conn <close> = db.connect(env.name)

  -- 3. Open the change: the host takes the deploy lock, then reads the
  --    history and the files itself and decides what is pending.
  local change <close> = conn:begin_change({ what = "deploy", scan = scan })
  local plan = change:plan()
  for _, w in ipairs(plan.warnings) do out:warn(w) end
  out:set("pending", #plan.pending)
  out:set("applied", json.array())

  -- 4. Review: on a protected environment, what each migration would lose in
  --    this database's data (the gate refuses data loss unless allowed).
  if change:policy().review and #plan.pending > 0 then out:set("review", change:review()) end

  -- 5. Check before asking anyone: nothing edited, missing or left part-way,
  --    every file parses, staging first (promote_from), the review's verdict.
  change:check()
  if #plan.pending == 0 then
    out:say("Nothing to deploy: " .. env.name .. " is up to date (" .. plan.total .. " migrations).")
    return 0
  end

  -- 6. Confirm (type the environment's name, or --yes).
  change:confirm("apply " .. #plan.pending .. " migration(s)")

  -- 7. Back up first (backup = true): a verified pg_dump, or nothing changes.
  local taken = change:backup()
  if taken then
    out:say(string.format("Backed up %s to %s (%d bytes, verified).", env.name, taken.file, taken.size))
    out:set("backup", { path = taken.path, checksum = taken.checksum, size = taken.size })
  end

  -- 8. Apply in order; stop at the first failure (what came before stays applied).
  out:say("Deploying " .. #plan.pending .. " migration(s) to " .. env.name .. ":")
  local started = sys.clock()
  deploy.apply_pending(change, out, plan)
  out:say(string.format("Deployed %d migration(s) to %s in %s.", #plan.pending, env.name,
    report.ms(sys.clock() - started)))
  return 0
end)
