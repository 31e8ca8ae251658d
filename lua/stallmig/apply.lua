-- stallmig.apply — run one migration and record it.
--
-- transactional:     BEGIN; <file>; INSERT history; COMMIT in ONE round trip,
--                    so the migration and its history row commit together.
-- self-managed:      the file's own BEGIN/COMMIT, statement by statement.
-- non-transactional: statement by statement in autocommit.
-- After each, RESET ALL: a session SET in one file must not leak into the
-- next (not DISCARD ALL, which would also drop the deploy lock).
local sql = require("stallmig.sql")
local sys = require("stallmig.sys")
local history = require("stallmig.history")
local errors = require("stallmig.error")
local prisma = require("stallmig.prisma")

local apply = {}

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

local function run_transactional(conn, m, env, opts)
  local prefix = "BEGIN;\n" .. (opts.durable and "" or "SET LOCAL synchronous_commit = off;\n")
  local prefix_statements = opts.durable and 1 or 2
  local suffix = history.applied_sql(conn, m, env)
  if opts.prisma then                 -- Prisma's row commits with the migration, like ours
    prefix = prefix .. prisma.started_sql(conn, m) .. ";\n"
    prefix_statements = prefix_statements + 1
    suffix = prisma.finished_sql(conn, m) .. ";\n" .. suffix
  end
  local text = prefix .. m.content .. "\n;\n" .. suffix .. ";\nCOMMIT;\nRESET ALL;"
  local ok, err = pcall(conn.exec, conn, text)
  if ok then return nil end
  if type(err) ~= "table" then error(err, 0) end
  pcall(conn.exec, conn, "ROLLBACK; RESET ALL;")
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
local function run_statements(conn, m, opts)
  if opts.prisma then conn:exec(prisma.started_sql(conn, m)) end
  local committed = false
  for index, statement in ipairs(m.script.statements) do
    local ok, err = pcall(conn.exec, conn, statement.text)
    if not ok then
      if type(err) ~= "table" then error(err, 0) end
      if conn:transaction_status() ~= "idle" then pcall(conn.exec, conn, "ROLLBACK") end
      local line, column = statement.line, statement.column
      if err.position then
        local before = utf8.len(m.content, 1, statement.offset - 1) or (statement.offset - 1)
        line, column = sql.position(m.content, before + err.position)
      end
      local partial = committed or statement.no_transaction
      return failure(m, err, index, line, column, partial), index
    end
    if conn:transaction_status() == "idle" then committed = true end
  end
  return unclosed_transaction(conn, m, committed)
end

-- Applies m (already loaded). Returns nil on success, or an error object
-- (kind "failed") after recording the failure. opts.durable: this commit
-- waits for its WAL flush (the run's last migration does; earlier ones need
-- not, since the last flush covers them and each stays atomic).
function apply.run(conn, m, env, opts)
  opts = opts or {}
  local started = m.mode ~= "transactional" and history.now(conn)
  local err, index
  if m.mode == "transactional" then
    err, index = run_transactional(conn, m, env, opts)
  else
    err, index = run_statements(conn, m, opts)
  end
  pcall(conn.exec, conn, "RESET ALL")
  if err and opts.prisma then prisma.failed(conn, m, err.server_message or err.message) end
  if not err and opts.prisma and m.mode ~= "transactional" then conn:exec(prisma.finished_sql(conn, m)) end
  if err then
    history.record(conn, m, env, {
      started_at = started or history.now(conn), outcome = "failed", partial = err.partial,
      error = err.server_message, statement = index, line = err.failed_line,
    })
    return err
  end
  if m.mode ~= "transactional" then
    history.record(conn, m, env, { started_at = started, outcome = "applied" })
  end
  return nil
end

return apply
