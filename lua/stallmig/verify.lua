-- stallmig.verify — the runbook's review questions for every pending
-- migration, answered with evidence from the environment's own data.
--
--   local doc = verify.run(ctx, "staging")            -- doc.verdict.ok, doc.migrations
--   local doc = verify.run(ctx, "staging", { rehearse = true, drift = true })
--
-- Read-only unless opts.rehearse, which runs the pending migrations in one
-- transaction through the change gate (the deploy lock held, confirmation
-- where protected, rehearse = true required) and rolls back.
local session = require("stallmig.session")
local guard = require("stallmig.guard")
local lint = require("stallmig.lint")
local evidence = require("stallmig.evidence")
local review = require("stallmig.review")
local drift = require("stallmig.drift")
local snapshot = require("stallmig.snapshot")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local json = require("stallmig.json")
local phases = require("stallmig.phases")

local verify = {}

-- verify.run(ctx, env_name [, opts]) -> doc: verify's --json document:
-- {environment, migrations = {{name, file, mode, findings, evidence,
-- blocking, down_sql, rehearsal, statements = {{index, line, kind, sql,
-- locks = {{mode, level, schema, table, what, new_table}}}},
-- statements_omitted}}, history, compatibility = {compatible, breaking,
-- same_release} (compat.check), drift, rehearsal, verdict = {ok, errors,
-- warnings, suppressed, text}}. opts.rehearse, opts.drift.
-- Prints nothing. A broken team lint rule or an unreachable environment
-- is raised.
function verify.run(ctx, env_name, opts)
  opts = opts or {}
  local env = ctx.config.environments[env_name]
  -- 1. A rehearsal runs the migrations: on a protected environment only when
  --    it can be confirmed (the host also refuses it where rehearse = false).
  if opts.rehearse and env then
    guard.preflight(env_name, "rehearse migrations (run them, then roll back)")
  end

  -- 2. The lint rules (a broken team rule stops us here), the folder, the
  --    connection (read-only on a protected environment).
  local rules = lint.rules(ctx.config)
  local s <close> = session.open(ctx, { env = env_name })

  -- 3. A rehearsal is a change: the host holds the deploy lock, so it never
  --    runs beside a deploy; the plan is read again after the lock.
  local change <close> = opts.rehearse and s.conn:begin_change("verify --rehearse") or nil
  local found, plan = s:found(), s.plan
  if change then plan = migrations.plan(found, history.read(s.conn)) end

  -- 4. Applied migrations must be unchanged (deploy would refuse).
  local doc = review.new(s.env)
  review.check_history(doc, plan, s.env)

  -- 5. Per pending migration: lint findings, what the data says about each
  --    risky statement, what the deploy gate would refuse, the rollback plan.
  --    A phased migration is reviewed as deploy runs it: its expand and
  --    backfill sections (docs/zero-downtime.md).
  local state = lint.context({ schema = snapshot.read(s.conn), lock_timeout = s.env.lock_timeout })
  local texts = {}
  for _, m in ipairs(plan.pending) do
    migrations.load(m, found)
    texts[#texts + 1] = { name = m.name, file = m.file, content = m.content }
    local view = phases.deploy_view(m)
    local statements = json.array()       -- each statement's SQL and table locks, for the reports
    local findings, targets, omitted = lint.check(view, rules, state, statements)
    local entry = review.add_migration(doc, view, findings, evidence.gather(s.conn, s.env, targets),
      review.down_sql(found, m, true))
    entry.statements, entry.statements_omitted = statements, omitted > 0 and omitted or nil
    entry.blocking = json.array(review.judge(entry))
    migrations.release(m)
  end
  -- 5b. Does the schema stay usable by the running version until the contract?
  doc.compatibility = require("stallmig.compat").check(texts)

  -- 6. drift: replay the applied migrations on a shadow and compare.
  if opts.drift then doc.drift = { differences = json.array(drift.check(s.conn, s.env, found, plan)) } end

  -- 7. rehearse: run them in one transaction on this data, then roll back.
  if change and #plan.pending > 0 then
    change:confirm("rehearse " .. #plan.pending .. " migration(s) (run them in one transaction, then roll back)")
    local r = change:rehearse()
    review.set_rehearsal(doc, r.info, r.results, r.skipped)
  end
  review.verdict(doc)
  doc.warnings = json.array(s.warnings or {})
  return doc
end

return verify
