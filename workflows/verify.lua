-- verify.lua — review pending migrations before deploy: lint, data at risk, rollback plan, rehearsal
--
--   stallrun workflows/verify.lua --env staging [--rehearse] [--drift] [--json | --format github]
--
-- The runbook's review questions, answered with evidence from the target
-- database. Read-only unless --rehearse, which runs the pending migrations
-- in one transaction and rolls back. Exit 0 when nothing at error severity
-- was found, 1 otherwise.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local lint = require("stallmig.lint")
local evidence = require("stallmig.evidence")
local guard = require("stallmig.guard")
local review = require("stallmig.review")
local drift = require("stallmig.drift")
local snapshot = require("stallmig.snapshot")
local json = require("stallmig.json")
local report = require("stallmig.report")

return report.run(ctx, "verify", function(out)
  cli.check_options(ctx, { rehearse = true, drift = true, format = true })
  local env = cli.require_env(ctx)
  local format = review.check_format(ctx)

  -- 1. A rehearsal runs the migrations: on a protected environment only when
  --    it can be confirmed (the host also refuses it where stallmig.ini does
  --    not say rehearse = true).
  if ctx.options.rehearse then guard.preflight(env.name, "rehearse migrations (run them, then roll back)") end

  -- 2. The folder and the lint rules (a broken team rule stops us here).
  local scan <close> = migrations.scan(ctx.config)
  local rules = lint.rules(ctx.config)

  -- 3. Connect (read-only on a protected environment). A rehearsal is a
  --    change: the host holds the deploy lock, so it never runs beside a deploy.
  local conn <close> = db.connect(env.name)
  local change <close> = ctx.options.rehearse and conn:begin_change("verify --rehearse") or nil
  local found, warnings = migrations.discover(ctx.config, scan)
  for _, w in ipairs(warnings) do out:warn(w) end
  local plan = migrations.plan(found, history.read(conn))

  -- 4. Applied migrations must be unchanged (deploy would refuse).
  local doc = review.new(env)
  review.check_history(doc, plan, env)

  -- 5. Per pending migration: lint findings, what the data says about each
  --    risky statement, and whether a down.sql is the rollback plan.
  local state = lint.context({ schema = snapshot.read(conn), lock_timeout = env.lock_timeout })
  for _, m in ipairs(plan.pending) do
    migrations.load(m, found)
    local findings, targets = lint.check(m, rules, state)
    local entry = review.add_migration(doc, m, findings, evidence.gather(conn, env, targets),
      review.down_sql(found, m))
    entry.blocking = json.array(review.judge(entry))   -- what the deploy gate would refuse
  end

  -- 6. --drift: replay the applied migrations on a shadow and compare.
  if ctx.options.drift then doc.drift = { differences = json.array(drift.check(conn, env, found, plan)) } end

  -- 7. --rehearse: run them in one transaction on this data, then roll back.
  if change and #plan.pending > 0 then
    change:confirm("rehearse " .. #plan.pending .. " migration(s) (run them in one transaction, then roll back)")
    local r = change:rehearse()
    review.set_rehearsal(doc, r.info, r.results, r.skipped)
  end

  -- 8. The answers, and a verdict.
  return review.emit(out, doc, format)
end)
