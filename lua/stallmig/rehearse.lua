-- stallmig.rehearse — run the pending migrations on an environment inside ONE
-- transaction, measure each one (how long, how many rows it inserted,
-- updated and deleted), then ROLL BACK: how long a migration takes on
-- staging's real data volume, without changing staging.
--
-- Only transactional migrations can be rehearsed; the first that is not
-- (its own BEGIN/COMMIT, or a statement such as CREATE INDEX CONCURRENTLY)
-- ends the rehearsal, and it and the ones after it are listed as not
-- rehearsed (they would run on a schema the rehearsal did not build).
-- It runs in the change gate's own Lua state (change:rehearse()): the host
-- holds the deploy lock, asks for confirmation where the environment is
-- protected, allows it only where stallmig.ini says rehearse = true, and
-- records it.
local sql = require("stallmig.sql")
local sys = require("stallmig.sys")
local errors = require("stallmig.error")
local deploy = require("stallmig.deploy")

local rehearse = {}

-- Used when the environment sets none: a rehearsal never waits forever
-- behind live traffic, nor runs for hours.
rehearse.DEFAULT_LOCK_TIMEOUT = "5s"
rehearse.DEFAULT_STATEMENT_TIMEOUT = "10min"

-- What the report says about a rehearsal on env: its timeouts, and that it
-- was recorded (the change gate writes an audit row for every rehearsal).
function rehearse.info(env)
  local lock_timeout, statement_timeout = rehearse.timeouts(env)
  return { lock_timeout = lock_timeout, statement_timeout = statement_timeout, rolled_back = true,
    audited = env.protected == true }
end

-- Splits pending into what can be rehearsed and what cannot (with why).
function rehearse.split(pending)
  local runnable, skipped, blocker = {}, {}, nil
  for _, m in ipairs(pending) do
    if not blocker and m.mode ~= "transactional" then blocker = m end
    if blocker == m then
      skipped[#skipped + 1] = { m = m, reason = m.mode .. " (" .. tostring(m.reason)
        .. "): it cannot run inside the rehearsal's transaction" }
    elseif blocker then
      skipped[#skipped + 1] = { m = m, reason = "comes after " .. blocker.name .. ", which cannot be rehearsed" }
    else
      runnable[#runnable + 1] = m
    end
  end
  return runnable, skipped
end

-- The timeouts in force during the rehearsal.
function rehearse.timeouts(env)
  return env.lock_timeout or rehearse.DEFAULT_LOCK_TIMEOUT,
    env.statement_timeout or rehearse.DEFAULT_STATEMENT_TIMEOUT
end

local function settings(conn, env)
  local lock_timeout, statement_timeout = rehearse.timeouts(env)
  return "SET LOCAL lock_timeout = " .. conn:escape_literal(lock_timeout)
    .. "; SET LOCAL statement_timeout = " .. conn:escape_literal(statement_timeout)
end

-- Tuples inserted/updated/deleted so far in this transaction, per table.
local function counters(conn)
  local by_table = {}
  for _, r in ipairs(conn:query([[SELECT relid::bigint AS relid, n_tup_ins AS ins, n_tup_upd AS upd,
      n_tup_del AS del FROM pg_stat_xact_user_tables]])) do
    by_table[r.relid] = r
  end
  return by_table
end

local function touched(before, after)
  local rows = { inserted = 0, updated = 0, deleted = 0 }
  for relid, a in pairs(after) do
    local b = before[relid] or { ins = 0, upd = 0, del = 0 }
    rows.inserted = rows.inserted + math.max(a.ins - b.ins, 0)
    rows.updated = rows.updated + math.max(a.upd - b.upd, 0)
    rows.deleted = rows.deleted + math.max(a.del - b.del, 0)
  end
  return rows
end

-- The failure in deploy's words (a lock_timeout names the tables waited for).
local function failure(err, m, env)
  local index = (err.completed or 0) + 1
  local statement = m.script.statements[index]
  local line = statement and statement.line
  if err.position then line = sql.position(m.content, err.position) end
  local failed = errors.new("failed", string.format("migration %s failed in the rehearsal at %s:%s: %s%s",
    m.name, m.file, tostring(line or "?"), tostring(err.message),
    err.sqlstate and (" (SQLSTATE " .. err.sqlstate .. ")") or ""),
    { statement = statement and index, failed_line = line, sqlstate = err.sqlstate, migration = m.name })
  local lock_timeout = rehearse.timeouts(env)
  deploy.explain_failure(failed, m, 0, setmetatable({ lock_timeout = lock_timeout }, { __index = env }))
  return { message = failed.message, sqlstate = err.sqlstate, line = line, lock_timeout = err.sqlstate == "55P03" }
end

-- Runs `runnable` in one transaction and rolls back. Returns one result per
-- migration: {name, status = "ok" | "failed" | "not_rehearsed", duration_ms,
-- rows = {inserted, updated, deleted}, error, reason}. `step(result)` is
-- called after each. An interruption (SIGINT) rolls back on its way out.
function rehearse.run(conn, env, runnable, step)
  local results = {}
  local tx <close> = conn:transaction()
  conn:exec(settings(conn, env))
  local failed_at
  for _, m in ipairs(runnable) do
    local result = { name = m.name }
    if failed_at then
      result.status, result.reason = "not_rehearsed", "comes after " .. failed_at .. ", which failed"
    else
      local before = counters(conn)
      local started = sys.clock()
      local ok, err = pcall(conn.exec, conn, m.content)
      result.duration_ms = (sys.clock() - started) * 1000
      if ok then
        result.status, result.rows = "ok", touched(before, counters(conn))
        -- what one file left in the session stays in it, as deploy has it
        conn:exec(require("stallmig.apply").RESET_SESSION .. " " .. settings(conn, env))
      else
        if type(err) ~= "table" or err.kind == "interrupted" then error(err, 0) end
        result.status, result.error, failed_at = "failed", failure(err, m, env), m.name
      end
    end
    results[#results + 1] = result
    if step then step(result) end
  end
  tx:rollback()
  return results
end

return rehearse
