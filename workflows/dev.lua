-- dev.lua — apply pending migrations to the dev database and check it has not drifted (prisma migrate dev)
--
--   stallrun workflows/dev.lua --env dev [--reset]
--
-- When an applied migration was edited or deleted, or the database differs
-- from what its migrations produce, it says exactly what and stops; --reset
-- then resets and re-applies (it never resets without being asked). Works
-- without a terminal: the flags say what to do.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local deploy = require("stallmig.deploy")
local drift = require("stallmig.drift")
local schemadiff = require("stallmig.schemadiff")
local reset = require("stallmig.reset")
local report = require("stallmig.report")
local guard = require("stallmig.guard")
local json = require("stallmig.json")
local sys = require("stallmig.sys")

-- --reset, or "y" typed at a terminal (never asked without one, or in CI).
local function reset_wanted(ctx, env)
  if ctx.options.reset then return true end
  local ci = sys.getenv("CI")
  if (ci and ci ~= "" and ci ~= "0" and ci ~= "false") or not sys.isatty("stdin") or ctx.json then
    return false
  end
  sys.out("Reset " .. env.name .. " (all its data is lost) and re-apply every migration? [y/N] ")
  local answer = io.read("l")
  return answer ~= nil and answer:lower():match("^y") ~= nil
end

local function reset_and_reapply(ctx, env, out, why)
  out:say(why .. ": resetting.")
  reset.run(ctx, env, out, true)
  out:say(env.name .. " was reset and is in sync with its migrations.")
  return 0
end

return report.run(ctx, "dev", function(out)
  cli.check_options(ctx, { reset = true })
  local env = cli.require_env(ctx)
  out:set("applied", json.array())

  -- 0. The dev loop is dev-only work: the host refuses it (exit 3) on a
  --    protected environment, and on a database marked as a protected one's.
  guard.dev_only(env.name)
  local found = migrations.discover(ctx.config)
  local conn <close> = db.connect(env.name)
  guard.dev_only(conn)

  -- 1. The folder against the history (the host's own reading, after the
  --    deploy lock): edited or deleted migrations stop here.
  local change <close> = conn:begin_change("dev")
  local plan = change:plan({ entries = true })
  for _, w in ipairs(plan.warnings) do out:warn(w) end
  local broken = {}
  for _, m in ipairs(plan.entries) do
    if m.state == "modified" then broken[#broken + 1] = m.name .. " was edited after it was applied" end
    if m.state == "missing" then broken[#broken + 1] = m.name .. " was applied but its folder is gone" end
  end
  if #broken > 0 then
    for _, b in ipairs(broken) do out:warn(b) end
    out:set("problems", broken)
    if reset_wanted(ctx, env) then
      change:close()
      conn:close()
      return reset_and_reapply(ctx, env, out, "history and files differ")
    end
    error(require("stallmig.error").new("failed", #broken .. " migration(s) differ from the history",
      { hint = "restore them, or reset the dev database: stallrun workflows/dev.lua --env "
        .. env.name .. " --reset" }), 0)
  end

  -- 2. Drift: the database against what its applied migrations produce
  --    (before anything is applied). When the pending migrations make
  --    exactly the difference (a prototype pushed, then captured with
  --    create.lua --from-diff), it is no drift to capture again, but they
  --    cannot run over what they would make: reset and apply them all.
  local made, target, with_pending = drift.snapshots(conn, env, found, plan, { pending = true })
  local diffs = schemadiff.compare(made, target)
  out:set("differences", json.array(diffs))
  if #diffs > 0 and #plan.pending > 0 and with_pending and #schemadiff.compare(with_pending, target) == 0 then
    local names = {}
    for _, m in ipairs(plan.pending) do names[#names + 1] = m.name end
    out:set("captured_by", names)
    out:say(env.name .. " already holds what its pending migration(s) make, so they cannot be applied "
      .. "over it: " .. table.concat(names, ", "))
    if reset_wanted(ctx, env) then
      change:close()
      conn:close()
      return reset_and_reapply(ctx, env, out, "pending migration(s) capture the database's changes")
    end
    error(require("stallmig.error").new("failed", env.name .. " already holds what its " .. #names
      .. " pending migration(s) make (captured with create.lua --from-diff?); nothing was applied",
      { hint = "reset " .. env.name .. " to apply them from scratch (all its data is lost): "
        .. "stallrun workflows/dev.lua --env " .. env.name .. " --reset" }), 0)
  end
  if #diffs > 0 then
    out:say(env.name .. " has drifted from its migrations:")
    for _, d in ipairs(diffs) do out:say("  " .. d) end
    if reset_wanted(ctx, env) then
      change:close()
      conn:close()
      return reset_and_reapply(ctx, env, out, "drift")
    end
    error(require("stallmig.error").new("failed", env.name .. " differs from its migrations ("
      .. #diffs .. " difference(s))", { hint = "capture the change in a migration "
      .. "(stallrun workflows/create.lua --name ... --from-diff --env " .. env.name .. "), "
      .. "or reset: stallrun workflows/dev.lua --env " .. env.name .. " --reset" }), 0)
  end

  -- 3. Apply what is pending, through the gate like any deploy.
  if #plan.pending > 0 then
    out:say("Applying " .. #plan.pending .. " migration(s) to " .. env.name .. ":")
    deploy.apply_pending(change, out, plan)
  end
  out:say(env.name .. " is in sync with its " .. (change:plan().counts.applied or 0) .. " migration(s).")
  return 0
end)
