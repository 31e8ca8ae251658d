-- stallmig.deploy — the deploy's refusals, failure explanations, and the loop
-- that applies the pending migrations through a change (conn:begin_change).
local errors = require("stallmig.error")
local sql = require("stallmig.sql")
local report = require("stallmig.report")
local json = require("stallmig.json")
local history = require("stallmig.history")
local interrupt = require("stallmig.interrupt")

local deploy = {}

local function list(entries)
  local names = {}
  for _, m in ipairs(entries) do names[#names + 1] = "  " .. m.name end
  return table.concat(names, "\n")
end

local function select_state(plan, wanted, predicate)
  local found = {}
  for _, m in ipairs(plan.entries) do
    if m.state == wanted and (predicate == nil or predicate(m)) then found[#found + 1] = m end
  end
  return found
end

-- The exact command that marks a failed migration resolved.
function deploy.resolve_command(migration, env, how)
  return string.format("stallrun workflows/resolve.lua --env %s --migration %s %s --reason '...'",
    env or "ENV", migration, how)
end

-- Refuses (kind "failed", nothing applied) when an applied migration was
-- edited or deleted, or a failed one may have left part of its work behind.
function deploy.check_plan(plan, env)
  local modified = select_state(plan, "modified")
  if #modified > 0 then
    error(errors.new("failed", #modified .. " applied migration(s) were edited since they were applied:\n"
      .. list(modified), { hint = "never edit an applied migration: restore the file (git checkout) "
      .. "and put the change in a new migration (stallrun workflows/status.lua shows the state)" }), 0)
  end
  local missing = select_state(plan, "missing")
  if #missing > 0 then
    error(errors.new("failed", #missing .. " applied migration(s) are missing from the migrations folder:\n"
      .. list(missing), { hint = "is this an old checkout? deploy from the branch that has them, "
      .. "or restore the folders" }), 0)
  end
  local stuck = select_state(plan, "failed", function(m)
    return m.row.partial and not require("stallmig.migrations").resumable(m, m.row)
  end)
  if #stuck > 0 then
    local m = stuck[1]
    error(errors.new("failed", string.format(
      "%s failed earlier and may have left part of its work behind (statement %s, line %s: %s)",
      m.name, tostring(m.row.failed_statement or "?"), tostring(m.row.failed_line or "?"),
      tostring(m.row.error or "")), { migration = m.name,
      hint = "inspect what the statements before it did, and either undo them and run: "
        .. deploy.resolve_command(m.name, env and env.name, "--rolled-back")
        .. ", or finish them and run: "
        .. deploy.resolve_command(m.name, env and env.name, "--applied") }), 0)
  end
end

-- The schemas of a database's own: not the system's, not stallmig's.
local OWN_SCHEMAS = [[
  own AS (SELECT n.oid, n.nspname FROM pg_namespace n
           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'stallmig')
             AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%')]]

-- What a database holds of its own, outside the system schemas and
-- stallmig's, and not created by an extension: relations, types, functions,
-- schemas; and whether it holds another tool's history.
local OWN_OBJECTS = "WITH " .. OWN_SCHEMAS .. [[,
       ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
  SELECT (SELECT count(*) FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM own)
            AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
            AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_class'::regclass AND objid = c.oid)) AS relations,
         (SELECT count(*) FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM own)
            AND t.typtype IN ('e', 'd', 'c', 'r', 'm') AND (t.typtype <> 'c' OR
              (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
            AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_type'::regclass AND objid = t.oid)) AS types,
         (SELECT count(*) FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM own)
            AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_proc'::regclass AND objid = p.oid)) AS functions,
         (SELECT count(*) FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM own) AND n.nspname <> 'public'
            AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_namespace'::regclass AND objid = n.oid)) AS schemas,
         to_regclass('_prisma_migrations') IS NOT NULL AS prisma]]

-- Whether a database holds nothing of its own (OWN_OBJECTS would count
-- nothing, and no other tool's history): no object depends on a schema of
-- its own, the only such schema is public. A relation, type or function
-- records its schema in pg_depend, whose index answers this without the
-- scans of pg_proc, pg_type and pg_depend OWN_OBJECTS makes (1.4 ms on a
-- new backend against 3.1 to 3.6: every member's first deploy in a fleet).
-- Something there (an extension's objects too) is then counted by OWN_OBJECTS.
local NOTHING_OF_ITS_OWN = "WITH " .. OWN_SCHEMAS .. [[
  SELECT NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_namespace'::regclass
                       AND d.refobjid IN (SELECT oid FROM own))
     AND NOT EXISTS (SELECT 1 FROM own WHERE nspname <> 'public')
     AND to_regclass('_prisma_migrations') IS NULL AS empty]]

-- The first deploy onto a database (no stallmig history) refuses when the
-- database already has a schema of its own or another tool's history, as
-- Prisma's P3005 does: applying every migration over it would apply them
-- twice. An empty database, or one holding only what extensions created,
-- deploys. adopt.lua records an existing history without running it.
function deploy.check_first_deploy(conn, plan, env)
  for _, m in ipairs(plan.entries) do if m.row then return end end   -- not the first
  if #plan.pending == 0 then return end
  if conn:query(NOTHING_OF_ITS_OWN)[1].empty then return end   -- a new, empty database
  local audited = conn:query("SELECT to_regclass('stallmig.audit') IS NOT NULL AS yes")[1].yes
  if audited and conn:query([[SELECT EXISTS (SELECT 1 FROM stallmig.audit
      WHERE action = 'adopt' AND outcome = 'ok') AS yes]])[1].yes then
    return                                         -- adopt.lua --baseline none: deploy over it
  end
  local own = conn:query(OWN_OBJECTS)[1]
  local parts = {}
  for _, k in ipairs({ "relations", "types", "functions", "schemas" }) do
    if own[k] > 0 then parts[#parts + 1] = own[k] .. " " .. (k == "relations" and "table(s), view(s) or sequence(s)" or k) end
  end
  if #parts == 0 and not own.prisma then return end
  local name = env and env.name or "the environment"
  local how = own.prisma
    and ("it holds a Prisma history (_prisma_migrations): take it over with stallrun workflows/adopt.lua --env "
      .. name .. " --from prisma")
    or ("if these migrations made it, record them as applied without running them: stallrun "
      .. "workflows/adopt.lua --env " .. name .. " --baseline LAST_APPLIED_MIGRATION; if none of them "
      .. "is there and they should all run over what is: --baseline none")
  error(errors.new("refused", string.format("%s's database has no stallmig history but already holds "
    .. "a schema of its own (%s%s): deploying would apply all %d migration(s) again over it; nothing "
    .. "was changed", name, table.concat(parts, ", "), own.prisma and ", and _prisma_migrations" or "",
    #plan.pending), { hint = how .. "; if it is not the database you meant, check the url in stallmig.ini" }), 0)
end

-- The tables a statement names (for "which lock was it waiting for"): their
-- names as shown ("public.users"), and {schema, name} to look them up.
local function relations(text)
  local ok, tree = pcall(sql.parse, text)
  if not ok and interrupt.is(tree) then error(tree, 0) end
  local names, refs, seen = {}, {}, {}
  local function walk(node)
    if type(node) ~= "table" then return end
    if type(node.relname) == "string" and not seen[node.relname] then
      seen[node.relname] = true
      names[#names + 1] = '"' .. (node.schemaname and (node.schemaname .. ".") or "") .. node.relname .. '"'
      refs[#refs + 1] = { schema = node.schemaname, name = node.relname }
    end
    for _, child in pairs(node) do walk(child) end
  end
  if ok then walk(tree) end
  return names, refs
end

-- The session that holds a lock on one of the tables (the one whose
-- transaction is oldest), described for a person; nil when none does now.
local BLOCKER = [[
  SELECT a.pid, coalesce(a.application_name, '') AS application, coalesce(a.usename::text, '?') AS usename,
         coalesce(a.state, '?') AS state, left(regexp_replace(coalesce(a.query, ''), '\s+', ' ', 'g'), 120) AS query,
         round(extract(epoch FROM now() - coalesce(a.xact_start, a.query_start, a.backend_start)))::bigint AS seconds
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
   WHERE l.granted AND l.pid <> pg_backend_pid() AND l.locktype = 'relation'
     AND l.relation = to_regclass(CASE WHEN $1::text IS NULL THEN format('%I', $2::text)
                                       ELSE format('%I.%I', $1::text, $2::text) END)
   ORDER BY a.xact_start NULLS LAST LIMIT 1]]

function deploy.blocker(conn, refs)
  for _, r in ipairs(refs or {}) do
    local ok, rows = pcall(conn.query, conn, BLOCKER, r.schema, r.name)
    if ok and rows[1] then
      local b = rows[1]
      return string.format("pid %d (application '%s', user %s, %s for %ds: %s)", b.pid, b.application,
        b.usename, b.state, b.seconds, b.query)
    end
  end
  return nil
end

-- Who holds the lock that statement err.statement of m timed out on, or nil.
function deploy.holder_of(conn, m, err)
  local statement = err.statement and m.script.statements[err.statement]
  if not statement then return nil end
  local _, refs = relations(statement.text)
  return deploy.blocker(conn, refs)
end

-- A migration that gave up waiting for a lock (lock_timeout): say which
-- tables it needed, how long it waited, and who holds the lock (conn: the
-- connection to look that up on, when it is still usable).
local function explain_lock_timeout(err, m, env, conn)
  local statement = err.statement and m.script.statements[err.statement]
  local tables, refs = {}, {}
  if statement then tables, refs = relations(statement.text) end
  local holder = conn and deploy.blocker(conn, refs)
  err.blocker = holder
  err.message = string.format("migration %s waited %s (lock_timeout of %s) for a lock on %s "
    .. "held by another session%s, and gave up at %s:%s%s", m.name, env.lock_timeout or "?",
    env.name, #tables > 0 and table.concat(tables, ", ") or "a table it needs",
    holder and (": " .. holder) or "", m.file, tostring(err.failed_line or "?"), err.index_message or "")
end

-- Adds to a migration failure what state the database is in now (conn, if
-- given, is asked who held a lock it timed out on).
function deploy.explain_failure(err, m, applied_before, env, conn)
  if err.sqlstate == "55P03" and env then explain_lock_timeout(err, m, env, conn) end
  if err.partial then
    err.hint = string.format("%s ran outside a single transaction (%s): statements before %s "
      .. "may be applied, and deploy refuses to continue until it is resolved. Undo them, fix the "
      .. "file and run: %s; or finish them by hand and run: %s", m.name, m.mode,
      tostring(err.statement), deploy.resolve_command(m.name, env and env.name, "--rolled-back"),
      deploy.resolve_command(m.name, env and env.name, "--applied"))
  elseif err.index_hint then
    err.hint = err.index_hint
  else
    -- a lock timeout is not the file's fault: the same file succeeds once the lock is free
    err.hint = string.format("nothing of %s was applied (rolled back)%s; %s", m.name, applied_before > 0
      and string.format(", and the %d migration(s) before it stay applied", applied_before) or "",
      err.sqlstate == "55P03" and "deploy again once the other session has let go of the table"
      or "fix the file and deploy again")
  end
  if err.partial and err.index_hint then err.hint = err.hint .. "\nhint: " .. err.index_hint end
  if err.sqlstate == "55P03" then
    err.hint = err.hint .. "\nhint: find the blocker with pg_blocking_pids() and "
      .. "pg_stat_activity, or deploy when the table is quiet"
  end
  if err.server_hint then err.hint = err.server_hint .. "\n" .. "hint: " .. err.hint end
end

local function stay_applied(count)
  return count > 0 and string.format("%d migration(s) before it stay applied", count) or "nothing before it was applied"
end

-- What a SIGINT/SIGTERM left of m, read back from the history (the truth,
-- whatever instant the signal came at): "applied", "part-way" (failed
-- part-way, statement N), or "rolled back"; "unknown" when it cannot be read
-- (the connection is gone, or a second signal cancelled the query).
local function fate_of(conn, m)
  if conn:transaction_status() == "unknown" then return "unknown" end
  if conn:transaction_status() ~= "idle" then pcall(conn.exec, conn, "ROLLBACK") end
  local ok, row = pcall(history.latest, conn, m.name)
  if not ok then return "unknown" end
  if row and row.outcome == "applied" and row.checksum == m.checksum then return "applied" end
  if row and row.outcome == "failed" and row.partial and m.mode ~= "transactional" then
    return "part-way", row.failed_statement
  end
  return "rolled back"
end

-- The state a SIGINT/SIGTERM during m (the applied_before before it
-- applied in this run) left the database in, as the message of err.
-- left: how many pending migrations came after m.
function deploy.explain_interrupt(err, conn, m, applied_before, env, left)
  local fate, statement = fate_of(conn, m)
  if fate == "applied" then
    err.message = string.format("%s after %s was applied: it and the %d before it stay applied; %s",
      err.message, m.name, applied_before, (left or 1) > 0 and "deploy again to apply the rest"
      or "nothing is left to apply")
  elseif fate == "part-way" then
    err.message = string.format("%s during %s at statement %s: it runs outside a single transaction, "
      .. "so it is recorded as failed part-way (%s); %s", err.message, m.name, tostring(statement),
      statement == 1 and "its first statement may or may not have committed"
      or "the statements before it committed", stay_applied(applied_before))
    err.hint = "inspect what it did; undo it and run: " .. deploy.resolve_command(m.name, env.name, "--rolled-back")
      .. ", or finish it by hand and run: " .. deploy.resolve_command(m.name, env.name, "--applied")
  elseif fate == "rolled back" then
    err.message = string.format("%s during %s: it was rolled back; %s; deploy again to continue",
      err.message, m.name, stay_applied(applied_before))
  else
    err.message = string.format("%s during %s, and what it left could not be read back: stallrun "
      .. "workflows/status.lua shows it; deploy again to continue", err.message, m.name)
  end
  if err.index_message and fate == "part-way" then     -- a concurrent build it cut short
    err.message = err.message .. err.index_message
    err.hint = err.hint .. "\nhint: " .. err.index_hint
  end
end

-- A migration whose connection was lost (session terminated, server
-- stopped): what the server did with it, and what to do.
-- what_stays: what is known of the migrations applied before it in this run
-- (the gate reads the history again after reconnecting), else nil.
function deploy.explain_lost(err, m, applied_before, env, what_stays)
  local stays = what_stays or stay_applied(applied_before)
  local where = err.failed_line and (m.file .. ":" .. err.failed_line) or m.file
  err.message = string.format("lost the connection to %s during %s (%s): %s", env.name, m.name, where,
    tostring(err.server_message or err.message))
  if err.partial then
    err.hint = string.format("%s runs outside a single transaction and is recorded as failed part-way "
      .. "(%s); once the server is back, inspect what it did, then run: %s, or: %s", m.name,
      stays, deploy.resolve_command(m.name, env.name, "--rolled-back"),
      deploy.resolve_command(m.name, env.name, "--applied"))
  else
    -- cut off inside the file: certainly rolled back; at its COMMIT: maybe not
    local fate = err.statement and "which the server rolled back as the session ended"
      or "which the server rolls back as the session ends, unless its COMMIT had reached it (status shows which)"
    err.hint = string.format("%s ran in one transaction, %s; %s; deploy again once the server "
      .. "accepts connections", m.name, fate, stays)
  end
end

-- m's entry in out.doc.applied, {name, mode, ok, duration_ms}. own: the
-- plan is deploy.run's own, which no one reads after this but for its
-- length, so the view of m becomes its entry rather than staying beside a
-- new table: at 10,000 migrations those tables were 1.9 MB of the run's peak.
local function applied_entry(m, r, ok, own)
  if not own then return { name = m.name, mode = r.mode, ok = ok, duration_ms = r.duration_ms } end
  for key in next, m do
    if key ~= "name" then m[key] = nil end
  end
  m.mode, m.ok, m.duration_ms = r.mode, ok, r.duration_ms
  return m
end

-- While the loop runs, a collection cycle starts when this state's heap has
-- grown by 5% (not the host's 20%): the plan is most of what it holds, each
-- migration leaves a copy of its result behind, and at 10,000 migrations
-- 20% was 0.7 MB of garbage kept at the run's peak. Restored however the
-- loop ends.
local function collecting_sooner()
  local pause = collectgarbage("setpause", 105)
  return setmetatable({}, { __close = function() collectgarbage("setpause", pause) end })
end

-- own: the views of the plan become the entries in place (applied_entry),
-- so its list, cut after the last one that ran, is out.doc.applied when the
-- loop ends, however it ends: no second array of every migration, grown by
-- doubling beside the first. ran(): how many ran.
local function pending_becomes_applied(out, plan, ran)
  return setmetatable({}, { __close = function()
    local pending = plan.pending
    for k = #pending, ran() + 1, -1 do pending[k] = nil end
    out:set("applied", json.array(pending))
  end })
end

local function apply_each(change, out, plan, own)
  local _ <close> = collecting_sooner()
  local widest = ""                  -- the width of the longest name, without a list of every name
  for _, m in ipairs(plan.pending) do if #m.name > #widest then widest = m.name end end
  out:set_width({ widest })
  if not out.doc.applied then out:set("applied", json.array()) end
  local count = 0
  local _ <close> = own and pending_becomes_applied(out, plan, function() return count end) or nil
  for _, m in ipairs(plan.pending) do
    local ok, result = interrupt.pcall(change.apply, change, m.name)
    local r = type(result) == "table" and result or {}
    for _, w in ipairs(r.warnings or {}) do out:warn(w) end
    for _, w in ipairs(r.told or {}) do table.insert(out.doc.warnings, w) end   -- said already
    local ran = ok or (r.kind == "failed" and r.migration == m.name)
    if ran then
      local entry = applied_entry(m, r, ok, own)
      count = count + 1
      if not own then table.insert(out.doc.applied, entry) end
      out:step(ok and "+" or "x", m.name, ok and ("ok (" .. report.ms(r.duration_ms / 1000) .. ")") or "FAILED")
    end
    if not ok then error(result, 0) end
  end
end

-- Applies plan.pending in order through the change (conn:begin_change),
-- a progress line each (and its entry in out.doc.applied); stops at the
-- first failure and raises it, explained. The gate refuses what the change
-- has not gone through (review, check, confirm, backup) before anything.
function deploy.apply_pending(change, out, plan)
  apply_each(change, out, plan, false)
end

-- deploy.run(ctx, env_name [, opts]) -> result: the runbook's deploy of one
-- environment, through the change gate. opts.out: a report to print to
-- (stallmig.report); without one nothing is printed. The result is deploy's
-- --json document: {environment, pending, applied = {{name, mode, ok,
-- duration_ms}}, backup = {path, checksum, size}, review, warnings}. A
-- refusal or a failed migration is raised, explained.
function deploy.run(ctx, env_name, opts)
  opts = opts or {}
  local sys = require("stallmig.sys")
  local out = opts.out or report.quiet("deploy", env_name)

  -- 1. The change: a protected environment needs a confirmation (with no
  --    terminal and no --yes, nothing is touched); the host takes the deploy
  --    lock, reads the history and the files itself, and decides what is pending.
  local s <close> = require("stallmig.session").open(ctx,
    { env = env_name, change = "deploy", confirm = "apply migrations" })
  local env, change, plan = s.env, s.change, s.plan
  for _, w in ipairs(plan.warnings) do out:warn(w) end
  out:set("environment", env.name)
  out:set("pending", #plan.pending)
  out:set("applied", json.array())

  -- 2. Review: on a protected environment, what each migration would lose in
  --    this database's data (the gate refuses data loss unless allowed).
  if change:policy().review and #plan.pending > 0 then out:set("review", change:review()) end

  -- 3. Check before asking anyone: nothing edited, missing or left part-way,
  --    every file parses, staging first (promote_from), the review's verdict.
  change:check()
  if #plan.pending == 0 then
    out:say("Nothing to deploy: " .. env.name .. " is up to date (" .. plan.total .. " migrations).")
    return out.doc
  end

  -- 4. Confirm (type the environment's name, or --yes).
  change:confirm("apply " .. #plan.pending .. " migration(s)")

  -- 5. Back up first (backup = true): a verified pg_dump, or nothing changes.
  local taken = change:backup()
  if taken then
    out:say(string.format("Backed up %s to %s (%d bytes, verified).", env.name, taken.file, taken.size))
    out:set("backup", { path = taken.path, checksum = taken.checksum, size = taken.size })
  end

  -- 6. Apply in order; stop at the first failure (what came before stays applied).
  out:say("Deploying " .. #plan.pending .. " migration(s) to " .. env.name .. ":")
  local started = sys.clock()
  apply_each(change, out, plan, true)   -- deploy.apply_pending's loop, on a plan no one else holds
  out:say(string.format("Deployed %d migration(s) to %s in %s.", #plan.pending, env.name,
    report.ms(sys.clock() - started)))
  return out.doc
end

return deploy
