-- stallmig.apply — run one migration and record it.
--
-- transactional:     BEGIN; <file>; INSERT history; COMMIT in ONE round trip,
--                    so the migration and its history row commit together.
-- self-managed:      the file's own BEGIN/COMMIT, statement by statement.
-- non-transactional: statement by statement in autocommit.
-- After each, the session is reset (RESET_SESSION): what one file left in it
-- must not reach the next. History rows are written as the connecting role
-- (history.AS_CONNECTING_ROLE), whatever role the file switched to.
-- Failure behaviour (tests/faults/): a SIGINT/SIGTERM (src/host.c cancels
-- the statement and raises kind "interrupted") rolls back what is open and
-- is re-raised with what happened to the migration; a lost connection
-- (session terminated, server restarted) becomes a failure with lost = true;
-- a migration outside one transaction is recorded as failed part-way before
-- it starts (history.begin), so even kill -9 leaves a truthful history.
local sql = require("stallmig.sql")
local sys = require("stallmig.sys")
local history = require("stallmig.history")
local errors = require("stallmig.error")
local prisma = require("stallmig.prisma")
local indexbuild = require("stallmig.indexbuild")
local interrupt = require("stallmig.interrupt")

local apply = {}

-- Everything of DISCARD ALL that a migration can leave in the session, but
-- the advisory locks: DISCARD ALL would also release the deploy lock (a
-- session-level advisory lock). RESET ALL leaves the role and the session
-- authorization alone, hence their own RESETs; then temporary tables (a
-- second CREATE TEMP TABLE of the same name would fail), currval/lastval,
-- prepared statements, WITH HOLD cursors and LISTENs. Not DISCARD PLANS:
-- DDL already invalidates the plans it affects, and no plan is state the
-- next file can see. Sent in the text that already follows each migration,
-- so it costs no round trip.
apply.RESET_SESSION = "RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL; DISCARD TEMP; "
  .. "DISCARD SEQUENCES; DEALLOCATE ALL; CLOSE ALL; UNLISTEN *;"

-- Where in the file the server's error points: a character position in the
-- text sent (minus what came before the file), else the failing statement.
local function locate(m, err, prefix_chars, statement)
  local line, column
  if err.position and err.position > prefix_chars then
    line, column = sql.position(m.content, err.position - prefix_chars)
  elseif statement then
    line, column = statement.line, statement.column
  end
  return line, column
end

-- The error a failed migration raises. Its message already says where, so
-- the location goes in failed_file/failed_line (for --json), not file/line
-- (which the host would print in front of the message again).
local function failure(m, err, index, line, column, partial)
  local where = m.file .. (line and (":" .. line .. (column and (":" .. column) or "")) or "")
  return errors.new("failed", string.format("migration %s failed at %s: %s%s", m.name, where,
    tostring(err.message), err.sqlstate and (" (SQLSTATE " .. err.sqlstate .. ")") or ""), {
    failed_file = m.file, failed_line = line, column = column, migration = m.name,
    statement = index, sqlstate = err.sqlstate, detail = err.detail, server_hint = err.hint,
    server_message = err.message, partial = partial,
  })
end

-- Re-raises what is not a server's error: a bug, or an interruption.
local function rethrow_unless_sql(err)
  if type(err) ~= "table" or interrupt.is(err) then error(err, 0) end
end

local function lost(conn)
  return conn:transaction_status() == "unknown"
end

local function run_transactional(conn, m, env, opts)
  local prefix = "BEGIN;\n" .. (opts.durable and "" or "SET LOCAL synchronous_commit = off;\n")
  local prefix_statements = opts.durable and 1 or 2
  local suffix = history.AS_CONNECTING_ROLE .. ";\n" .. history.applied_sql(conn, m, env, opts.outcome)
  local suffix_statements = 3
  if opts.prisma then                 -- Prisma's row commits with the migration, like ours
    prefix = prefix .. prisma.started_sql(conn, m) .. ";\n"
    prefix_statements = prefix_statements + prisma.STARTED_STATEMENTS
    suffix = suffix .. ";\n" .. prisma.finished_sql(conn, m)
    suffix_statements = suffix_statements + 1
  end
  -- opts.guard (the gate's lock check, one statement) fails the transaction
  -- when the file released the deploy lock: rolled back rather than committed
  local guard = opts.guard and (opts.guard .. ";\n") or ""
  suffix_statements = suffix_statements + (opts.guard and 1 or 0)
  local text = prefix .. m.content .. "\n;\n" .. guard .. suffix .. ";\nCOMMIT;\n" .. apply.RESET_SESSION
  local ok, err = pcall(conn.exec, conn, text)
  if ok then return nil end
  rethrow_unless_sql(err)
  -- only the reset after the COMMIT failed: the migration and its row are in
  local through_commit = prefix_statements + #m.script.statements + suffix_statements + 1
  if not lost(conn) and (err.completed or 0) >= through_commit and conn:transaction_status() == "idle" then
    interrupt.try(conn.exec, conn, apply.RESET_SESSION)
    return nil
  end
  if not lost(conn) then interrupt.try(conn.exec, conn, "ROLLBACK; " .. apply.RESET_SESSION) end
  local index = (err.completed or 0) - prefix_statements + 1
  local statement = m.script.statements[index]
  local line, column = locate(m, err, #prefix, statement)
  return failure(m, err, statement and index, line, column, false), statement and index
end

-- A file that opens a transaction and never commits it: the session would
-- roll it back at the end of the run, after deploy said "ok". Rolled back
-- now and reported at the BEGIN that opened it.
local function unclosed_transaction(conn, m, committed)
  if conn:transaction_status() == "idle" then return nil end
  pcall(conn.exec, conn, "ROLLBACK")
  local index, opener = #m.script.statements, nil
  for i, statement in ipairs(m.script.statements) do
    if statement.transaction_control then index, opener = i, statement end
  end
  local message = "the file opens a transaction and never commits it (add COMMIT at the end); "
    .. "what it did in that transaction was rolled back"
  return failure(m, { message = message }, index, opener and opener.line, opener and opener.column,
    committed), index
end

-- Statement by statement; work committed before a failure may stay behind.
-- For an interruption: progress.index, the statement running;
-- progress.committed, how many are known to have committed; progress.build
-- and progress.invalid_before, while a CREATE INDEX CONCURRENTLY runs.
local function run_statements(conn, m, opts, progress)
  if opts.prisma then conn:exec(prisma.started_sql(conn, m)) end
  progress.committed = 0
  for index, statement in ipairs(m.script.statements) do
    progress.index = index
    local build = indexbuild.target(statement)     -- CREATE INDEX CONCURRENTLY
    local invalid_before = build and indexbuild.invalid_on(conn, build)
    progress.build, progress.invalid_before = build, invalid_before
    local ok, err = pcall(conn.exec, conn, statement.text)
    if not ok then
      rethrow_unless_sql(err)
      if not lost(conn) and conn:transaction_status() ~= "idle" then interrupt.try(conn.exec, conn, "ROLLBACK") end
      local line, column = statement.line, statement.column
      if err.position then
        local before = utf8.len(m.content, 1, statement.offset - 1) or (statement.offset - 1)
        line, column = sql.position(m.content, before + err.position)
      end
      -- a failed concurrent build leaves at most its invalid index, which the
      -- retry drops: not partial, unless statements before it committed
      local found = build and not lost(conn) and indexbuild.examine(conn, build, invalid_before)
      local partial = progress.committed > 0 or (statement.no_transaction and not found)
      local failed = failure(m, err, index, line, column, partial)
      if found then indexbuild.describe(failed, found) end
      return failed, index
    end
    progress.build = nil
    local skipped = build and indexbuild.check_skipped(conn, build)
    if skipped then
      local failed = failure(m, skipped, index, statement.line, statement.column, progress.committed > 0)
      failed.index_hint = skipped.index_hint
      return failed, index
    end
    if conn:transaction_status() == "idle" then
      progress.committed = index
      local next_one = m.script.statements[index + 1]
      if next_one then history.progress(conn, progress.row, index + 1, next_one.line) end
    end
  end
  return unclosed_transaction(conn, m, progress.committed > 0)
end

-- After the last statement committed: the reset, Prisma's row and the
-- history row as applied, in the one round trip that follows it.
local function finish_applied(conn, m, opts, progress)
  conn:exec(apply.RESET_SESSION .. "\n" .. (opts.prisma and (prisma.finished_sql(conn, m) .. ";\n") or "")
    .. history.applied_finish_sql(conn, progress.row, opts.outcome))
end

-- The attempt itself; returns nil or the failure (recorded unless lost).
local function attempt(conn, m, env, opts, progress)
  local err, index
  if m.mode == "transactional" then
    err, index = run_transactional(conn, m, env, opts)
  else
    progress.row = history.begin(conn, m, env, opts.failed_outcome)
    if m.mode == "steps" then       -- a phase of a phased migration (lua/stallmig/steps.lua)
      if opts.prisma then conn:exec(prisma.started_sql(conn, m)) end
      err, index = require("stallmig.steps").run(conn, m, opts, progress)
    else
      err, index = run_statements(conn, m, opts, progress)
    end
  end
  if err and lost(conn) then
    err.lost = true                   -- nothing more can be written; progress.row says part-way
    return err
  end
  if not err then
    if progress.row then finish_applied(conn, m, opts, progress) end
    return nil
  end
  if m.mode ~= "transactional" then interrupt.try(conn.exec, conn, apply.RESET_SESSION) end
  if opts.prisma then prisma.failed(conn, m, err.server_message or err.message, m.mode == "transactional") end
  local outcome = { outcome = opts.failed_outcome or "failed", partial = err.partial, error = err.server_message,
    statement = index, line = err.failed_line }
  if progress.row then
    history.finish(conn, progress.row, outcome)
  else
    outcome.started_at = history.now(conn)
    history.record(conn, m, env, outcome)
  end
  return err
end

-- After an interruption: roll back what is open, and record a migration
-- outside one transaction as interrupted part-way at the first statement
-- not known to have committed (err.statement), or as applied when every
-- statement had committed. A concurrent index build it cut short is named
-- (err.index_message, err.index_hint) and noted for the retry to drop.
-- Each step is protected: a second signal must not stop the others.
local function settle_interrupt(conn, m, progress, err, opts)
  err.migration = m.name
  if lost(conn) then return end
  if conn:transaction_status() ~= "idle" then pcall(conn.exec, conn, "ROLLBACK") end
  if progress.row and progress.committed == (progress.total or #m.script.statements) then
    pcall(finish_applied, conn, m, opts, progress)
    return
  end
  pcall(conn.exec, conn, apply.RESET_SESSION)
  if not progress.row then return end
  err.statement = (progress.committed or 0) + 1
  local statement = m.steps and m.steps[err.statement] and m.steps[err.statement].statements[1]
    or m.script.statements[err.statement]
  local said
  if progress.build and progress.index == err.statement then
    local ok, found = pcall(indexbuild.examine, conn, progress.build, progress.invalid_before)
    if ok and found then
      said = { message = "", partial = true }
      indexbuild.describe(said, found)
    end
  end
  pcall(history.finish, conn, progress.row, { outcome = opts.failed_outcome or "failed", partial = true,
    error = tostring(err.message) .. " at statement " .. err.statement, statement = err.statement,
    line = statement and statement.line })
  if said and said.index_message then
    err.index_message, err.index_hint = said.index_message, said.index_hint
    pcall(indexbuild.remember, conn, m, said)
  end
end

-- Applies m (already loaded). Returns nil on success, or an error object
-- (kind "failed") after recording the failure (lost = true when the
-- connection was lost: then it could not be recorded). Raises kind
-- "interrupted" on SIGINT/SIGTERM, after settle_interrupt.
-- opts.durable: this commit waits for its WAL flush (the run's last
-- migration does; earlier ones need not, since the last flush covers them
-- and each stays atomic). opts.outcome: what the history row says on
-- success ("applied" unless given), opts.failed_outcome on failure
-- ("failed" unless given): a phase of a phased migration says which
-- (docs/zero-downtime.md).
function apply.run(conn, m, env, opts)
  opts = opts or {}
  local progress = {}
  local ok, err = interrupt.pcall(attempt, conn, m, env, opts, progress)
  if ok then return err end
  if interrupt.is(err) then
    settle_interrupt(conn, m, progress, err, opts)
  elseif type(err) == "table" and lost(conn) then
    local failed = failure(m, err, progress.index, nil, nil, progress.row ~= nil)
    failed.lost = true
    return failed
  end
  error(err, 0)
end

return apply
