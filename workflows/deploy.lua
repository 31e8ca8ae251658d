-- deploy.lua — apply pending migrations in order (prisma migrate deploy)
--
--   stallrun workflows/deploy.lua --env staging [--json]
--
-- Copy this file to make a release script of your own; every step is a call
-- into the stallmig library (docs/lua-api.md).
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local lock = require("stallmig.lock")
local checks = require("stallmig.deploy")
local guard = require("stallmig.guard")
local backup = require("stallmig.backup")
local promotion = require("stallmig.promotion")
local report = require("stallmig.report")
local sys = require("stallmig.sys")
local json = require("stallmig.json")

return report.run(ctx, "deploy", function(out)
  cli.check_options(ctx, { ["skip-promotion-check"] = true, reason = true })
  local env = cli.require_env(ctx)

  -- 1. A protected environment needs a confirmation: with no terminal to ask
  --    on (CI) and no --yes, stop before connecting.
  guard.preflight(env.name, "apply migrations")

  -- 2. Read the migrations folder (in the background while we connect).
  local scan <close> = migrations.scan(ctx.config)

  -- 3. One deploy at a time: take the lock, then read the history (another
  --    deploy may have just finished) and decide what is pending.
  local conn <close> = db.connect(env.name)
  lock.acquire(conn, env.lock_wait, function(text) out:warn(text) end)
  local found, warnings = migrations.discover(ctx.config, scan)
  for _, w in ipairs(warnings) do out:warn(w) end
  local plan = migrations.plan(found, history.read(conn))

  -- 4. Refuse to start when the history disagrees with the files.
  checks.check_plan(plan, env)

  -- 5. Parse every pending file before the first one runs.
  for _, m in ipairs(plan.pending) do migrations.load(m, found) end
  out:set("pending", #plan.pending)
  out:set("applied", json.array())
  if #plan.pending == 0 then
    out:say("Nothing to deploy: " .. env.name .. " is up to date (" .. #found .. " migrations).")
    lock.release(conn)
    return 0
  end

  -- 6. Staging first: with promote_from, only what that environment has applied.
  local override = promotion.check(ctx, env, plan)
  if override then out:warn(override) end

  -- 7. Confirm (type the environment's name, or --yes), then ask for writes:
  --    a protected connection is read-only until then.
  local what = "apply " .. #plan.pending .. " migration(s)"
  guard.confirm(conn, what)

  -- 8. Back up first (backup = true): a verified pg_dump, or nothing changes.
  local taken = env.backup and backup.take(ctx, env, plan)
  if taken then out:say(string.format("Backed up %s to %s (%d bytes, verified).", env.name, taken.file, taken.size)) end
  conn:allow_writes("deploy: " .. what .. (override and ("; " .. override) or ""))
  history.ensure(conn)
  if env.prisma_compat then require("stallmig.prisma").ensure(conn) end
  lock.announce(conn)
  if taken then
    backup.record(conn, env, taken)
    backup.prune(ctx, env, env.keep_backups)
    out:set("backup", { path = taken.path, checksum = taken.checksum, size = taken.size })
  end

  -- 9. Apply in order; stop at the first failure (what came before stays applied).
  out:say("Deploying " .. #plan.pending .. " migration(s) to " .. env.name .. ":")
  local started = sys.clock()
  checks.apply_pending(conn, env, out, plan)
  lock.release(conn)
  out:say(string.format("Deployed %d migration(s) to %s in %s.", #plan.pending, env.name,
    report.ms(sys.clock() - started)))
  return 0
end)
