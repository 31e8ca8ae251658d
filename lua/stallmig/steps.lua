-- stallmig.steps — one section of a phased migration (docs/zero-downtime.md)
-- run as steps, each committed on its own, so that no lock is held longer
-- than one step and an interrupted run resumes at the step it stopped in:
--
--   transaction   consecutive ordinary statements, in one transaction
--   concurrently  a CREATE/DROP INDEX CONCURRENTLY (or REINDEX ...), alone,
--                 outside a transaction
--   validate      an ALTER TABLE ... VALIDATE CONSTRAINT, alone, outside a
--                 transaction (it takes a weak lock and scans: its own commit)
--   backfill      an UPDATE of the backfill section, in key-range batches
--                 (lua/stallmig/backfill.lua)
--
-- Every step runs under the environment's lock_timeout; a step that gave up
-- on a lock left nothing behind (a transaction rolled back, a concurrent
-- build's invalid index dropped) and is tried again up to lock_retries
-- times after a jittered, growing pause, naming who holds the lock each
-- time. The history row (history.begin) says which step is next
-- (failed_statement is a step number in mode "steps"); a backfill's last
-- key goes in its checkpoint column with each batch.
local sys = require("stallmig.sys")
local errors = require("stallmig.error")
local history = require("stallmig.history")
local interrupt = require("stallmig.interrupt")

local steps = {}

-- The kind of step a statement needs alone, or nil.
local function alone(statement)
  if statement.no_transaction then return "concurrently" end
  if statement.kind == "AlterTableStmt" and statement.text:upper():find("VALIDATE%s+CONSTRAINT") then
    return "validate"
  end
  return nil
end

-- steps.split(script, owner) -> {{kind, statements}}: the statements of a
-- section in steps; owner[line] names the section a line belongs to
-- (phases.split's), so an UPDATE under -- stallmig:backfill is a backfill.
function steps.split(script, owner)
  local list, open = {}, nil
  for _, s in ipairs(script.statements) do
    local kind = alone(s)
    if not kind and owner and owner[s.line] == "backfill" and s.kind == "UpdateStmt" then kind = "backfill" end
    if kind then
      list[#list + 1] = { kind = kind, statements = { s } }
      open = nil
    else
      if not open then
        open = { kind = "transaction", statements = {} }
        list[#list + 1] = open
      end
      open.statements[#open.statements + 1] = s
    end
  end
  return list
end

-- Whether a section's steps need the steps runner: more than one step, or
-- one that is not a plain transaction.
function steps.needed(list)
  return #list > 1 or (#list == 1 and list[1].kind ~= "transaction")
end

-- The sessions holding a lock on a table one of the step's statements
-- names, described (pid, application, state, since, query); nil when none
-- does now. pg_blocking_pids() answers only while the blocked backend
-- waits, which it no longer does once lock_timeout ended the wait: the
-- holders are read from pg_locks for the same tables right after.
local HOLDERS = [[
  SELECT string_agg(format('pid %s (application ''%s'', %s for %ss: %s)', a.pid,
           coalesce(a.application_name, ''), coalesce(a.state, '?'),
           round(extract(epoch FROM now() - coalesce(a.xact_start, a.query_start)))::bigint,
           left(regexp_replace(coalesce(a.query, ''), '\s+', ' ', 'g'), 80)), '; ') AS who
    FROM pg_stat_activity a
   WHERE a.pid IN (SELECT l.pid FROM pg_locks l
                    WHERE l.granted AND l.pid <> pg_backend_pid() AND l.locktype = 'relation'
                      AND l.relation = ANY ($1::oid[]))]]

local function relations_of(statement)
  local ok, tree = pcall(require("stallmig.sql").parse, statement.text)
  if not ok then
    if interrupt.is(tree) then error(tree, 0) end
    return {}
  end
  local names, seen = {}, {}
  local function add(schema, name)
    local q = (schema and ('"' .. schema .. '".') or "") .. '"' .. name .. '"'
    if not seen[q] then seen[q], names[#names + 1] = true, q end
  end
  local function walk(node)
    if type(node) ~= "table" then return end
    if type(node.relname) == "string" then add(node.schemaname, node.relname) end
    if node.DropStmt and node.DropStmt.removeType == "OBJECT_TRIGGER" then   -- DROP TRIGGER x ON t
      for _, obj in ipairs(node.DropStmt.objects or {}) do
        local parts = {}
        for _, p in ipairs(obj.List and obj.List.items or {}) do parts[#parts + 1] = p.String and p.String.sval end
        if #parts >= 2 then add(parts[#parts - 2], parts[#parts - 1]) end
      end
    end
    for _, child in pairs(node) do walk(child) end
  end
  walk(tree)
  return names
end

local function blocker(conn, step)
  local oids = {}
  for _, s in ipairs(step.statements) do
    for _, name in ipairs(relations_of(s)) do   -- a table the step creates is not there yet
      local ok, rows = pcall(conn.query, conn, "SELECT to_regclass($1)::oid::bigint AS oid", name)
      if ok and rows[1] and rows[1].oid then oids[#oids + 1] = tostring(rows[1].oid) end
    end
  end
  if #oids == 0 then return nil end
  local ok, rows = pcall(conn.query, conn, HOLDERS, "{" .. table.concat(oids, ",") .. "}")
  return ok and rows[1] and rows[1].who or nil
end

-- The failure of step i (at statement s of it): as apply's failures read.
local function failure(m, i, s, err, partial)
  local where = m.file .. ":" .. tostring(s and s.line or "?")
  return errors.new("failed", string.format("migration %s failed at %s (step %d of %d): %s%s", m.name, where, i,
    #m.steps, tostring(err.message), err.sqlstate and (" (SQLSTATE " .. err.sqlstate .. ")") or ""), {
    failed_file = m.file, failed_line = s and s.line, migration = m.name, statement = i,
    sqlstate = err.sqlstate, detail = err.detail, server_hint = err.hint,
    server_message = err.message, partial = partial })
end

local function lost(conn)
  return conn:transaction_status() == "unknown"
end

-- One try of a transaction step; nil or the failure.
local function run_transaction(conn, m, i, step, partial)
  local texts = {}
  for k, s in ipairs(step.statements) do texts[k] = s.text end
  local ok, err = pcall(conn.exec, conn, "BEGIN;\n" .. table.concat(texts, ";\n") .. ";\nCOMMIT")
  if ok then return nil end
  if type(err) ~= "table" or interrupt.is(err) then error(err, 0) end
  if not lost(conn) and conn:transaction_status() ~= "idle" then interrupt.try(conn.exec, conn, "ROLLBACK") end
  return failure(m, i, step.statements[math.max(1, err.completed or 1)], err, partial)
end

-- One try of a statement alone (CONCURRENTLY, VALIDATE); a concurrent
-- build that failed has its invalid index dropped, so the retry starts clean.
local function run_alone(conn, m, i, step, partial)
  local indexbuild = require("stallmig.indexbuild")
  local s = step.statements[1]
  local build = indexbuild.target(s)
  local before = build and indexbuild.invalid_on(conn, build)
  local ok, err = pcall(conn.exec, conn, s.text)
  if ok then
    local skipped = build and indexbuild.check_skipped(conn, build)
    return skipped and failure(m, i, s, skipped, partial) or nil
  end
  if type(err) ~= "table" or interrupt.is(err) then error(err, 0) end
  local found = build and not lost(conn) and indexbuild.examine(conn, build, before)
  if found and found.left then
    interrupt.try(conn.exec, conn, "DROP INDEX CONCURRENTLY IF EXISTS " .. found.left.name)
  end
  return failure(m, i, s, err, partial)
end

-- The pause before try `tries` + 1: growing, jittered, at most 30 s.
local function pause_before(tries)
  return math.min(30, 2 ^ (tries - 1)) * (0.5 + math.random())
end

-- Runs `try` (returns nil or a failure) again while it gave up on a lock,
-- up to settings.lock_retries times; each retry says who holds the lock.
-- what: how the step is named in the warning.
function steps.retrying(conn, settings, told, what, step, try)
  local tries = 0
  while true do
    local failed = try()
    if not failed or failed.sqlstate ~= "55P03" or lost(conn) or tries >= (settings.lock_retries or 0) then
      return failed
    end
    tries = tries + 1
    local pause = pause_before(tries)
    local holder = blocker(conn, step)
    local text = string.format("%s gave up waiting for a lock after %s%s; try %d of %d in %.1fs", what,
      settings.lock_timeout or "lock_timeout", holder and (", held by " .. holder) or "", tries + 1,
      settings.lock_retries + 1, pause)
    sys.warn(text)
    told[#told + 1] = text
    sys.sleep(pause)
  end
end

-- Runs m.steps from opts.resume.step (or 1), recording progress on
-- progress.row; returns nil, or the failure and the step's number.
function steps.run(conn, m, opts, progress)
  local settings = opts.settings or {}
  local told = opts.told or {}
  local first = opts.resume and opts.resume.step or 1
  progress.committed, progress.total = first - 1, #m.steps
  if first > 1 then history.progress(conn, progress.row, first, m.steps[first].statements[1].line) end
  if opts.resume and opts.resume.checkpoint then   -- kept on the new attempt's row before anything runs
    conn:exec("BEGIN;\n" .. history.checkpoint_sql(conn, progress.row, opts.resume.checkpoint) .. ";\nCOMMIT")
  end
  for i = first, #m.steps do
    progress.index = i
    local step = m.steps[i]
    local partial = i > 1
    local what = string.format("%s step %d of %d (%s, line %d)", m.name, i, #m.steps, step.kind,
      step.statements[1].line)
    local failed
    if step.kind == "backfill" then
      local checkpoint = opts.resume and opts.resume.step == i and opts.resume.checkpoint or nil
      failed = require("stallmig.backfill").run(conn, m, i, step, {
        settings = settings, row = progress.row, checkpoint = checkpoint, told = told, what = what,
        failure = function(s, err) return failure(m, i, s, err, true) end })
    else
      local run = step.kind == "transaction" and run_transaction or run_alone
      failed = steps.retrying(conn, settings, told, what, step, function()
        return run(conn, m, i, step, partial)
      end)
    end
    if failed then return failed, i end
    progress.committed = i
    local following = m.steps[i + 1]
    if following then history.progress(conn, progress.row, i + 1, following.statements[1].line) end
  end
  return nil
end

return steps
