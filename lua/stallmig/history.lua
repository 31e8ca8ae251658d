-- stallmig.history — the history table in the target database.
-- One row per attempt; a migration's state is its latest row. The host
-- creates the table (src/ledger.c); the rows are written only by the change
-- gate's own Lua state (lua/stallmig/gate.lua): SQL a workflow sends that
-- writes to the stallmig schema is refused.
local sys = require("stallmig.sys")

local history = {}

history.TABLE = "stallmig.migrations"

-- History rows are written as the role stallrun connected as (db_user is
-- current_user), whatever a migration did with SET ROLE or SET SESSION
-- AUTHORIZATION: this goes in front of a history write, in its transaction.
-- LOCAL, so the migration's own setting is back after the COMMIT (the next
-- statements of a migration run statement by statement still run as it asked).
history.AS_CONNECTING_ROLE = "SET LOCAL SESSION AUTHORIZATION DEFAULT; SET LOCAL ROLE NONE"

-- Who is applying: OS user and host.
function history.applied_by()
  return sys.user() .. "@" .. sys.hostname()
end

function history.exists(conn)
  return conn:query("SELECT to_regclass('stallmig.migrations') IS NOT NULL AS ok")[1].ok
end

-- { latest = {name -> row} }: the latest row of each migration name.
-- No ORDER BY or DISTINCT ON: the latest attempt is the highest id, picked
-- here in one pass (a sort of the whole history costs more than the rest of
-- a no-op deploy).
-- `detailed` adds what status shows (when, how long); deploy needs only the
-- state, and a cold backend pays for every column of every row. A row's
-- `partial` is there only when true: a row of up to 8 fields is half the
-- size of one of 9 or more, and a history of 10,000 rows is megabytes.
local LEAN = [[
  SELECT id, name, checksum, outcome, partial OR NULL AS partial, mode,
         CASE WHEN outcome <> 'applied' THEN error END AS error,
         failed_statement, failed_line
    FROM stallmig.migrations]]
local DETAILED = [[
  SELECT id, name, checksum, outcome, partial OR NULL AS partial, mode, error, failed_statement,
         failed_line, duration_ms,
         to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at
    FROM stallmig.migrations]]

function history.read(conn, detailed)
  local result = { latest = {} }
  -- asked first: reading a table that is not there leaves an ERROR in the
  -- server's log, on every first deploy and every status of a database
  -- never deployed (a fleet's new members). A no-op reads the digest, not
  -- this, and the connection's identity check has already loaded what
  -- to_regclass looks at.
  if not history.exists(conn) then return result end
  local rows = conn:query(detailed and DETAILED or LEAN)
  local latest = result.latest
  for _, row in ipairs(rows) do
    local seen = latest[row.name]
    if seen == nil or seen.id < row.id then latest[row.name] = row end
  end
  return result
end

-- How many of the latest applied rows to read for the `limit` migrations
-- applied last (an earlier attempt of the same migration is another row).
function history.recent_rows(limit)
  return 4 * limit
end

-- history.recent from rows already read: the latest applied history rows,
-- newest first (history.recent_rows(limit) of them, or all there are), each
-- {name, duration_ms, finished_at} (conn:history_current's second answer).
function history.recent_from(rows, limit)
  local out, seen = {}, {}
  for _, row in ipairs(rows) do   -- an earlier attempt of the same migration is not another one
    if #out < limit and not seen[row.name] then
      seen[row.name] = true
      out[#out + 1] = { name = row.name, duration_ms = row.duration_ms, finished_at = row.finished_at }
    end
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

-- The `limit` migrations applied last (at most), in name order: {name,
-- duration_ms, finished_at} each, from the end of the history (its
-- primary key), not from every row.
function history.recent(conn, limit)
  return history.recent_from(conn:query([[
    SELECT id, name, duration_ms,
           to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at
      FROM stallmig.migrations WHERE outcome = 'applied' ORDER BY id DESC LIMIT $1]],
    history.recent_rows(limit)), limit)
end

-- The INSERT that records a successful transactional migration, as SQL text
-- so it travels in the migration's own round trip and commits with it.
-- Values are quoted by libpq (PQescapeLiteral). outcome: "applied" unless
-- given ("expanded": a phased migration's expand, docs/zero-downtime.md).
function history.applied_sql(conn, m, env, outcome)
  local q = function(v) return conn:escape_literal(v) end
  return "INSERT INTO stallmig.migrations (name, checksum, started_at, finished_at, duration_ms, "
    .. "applied_by, environment, mode, outcome) VALUES (" .. q(m.name) .. ", " .. q(m.checksum)
    .. ", transaction_timestamp(), clock_timestamp(), "
    .. "1000 * extract(epoch FROM clock_timestamp() - transaction_timestamp()), "
    .. q(history.applied_by()) .. ", " .. q(env) .. ", 'transactional', " .. q(outcome or "applied") .. ")"
end

-- Records the resolution of a failed migration: 'rolled_back' (nothing of
-- it remains; deploy applies it again) or 'applied' (finished by hand).
function history.resolve(conn, m, env, outcome, reason)
  conn:query([[
    INSERT INTO stallmig.migrations (name, checksum, started_at, finished_at, duration_ms,
      applied_by, environment, mode, outcome, note)
    VALUES ($1, $2, now(), now(), 0, $3, $4, $5, $6, $7)]],
    m.name, m.checksum, history.applied_by(), env, m.row.mode or "transactional", outcome,
    "resolved by hand: " .. reason)
end

-- Records an attempt that ran outside stallrun's own transaction (failed, or
-- self-managed / non-transactional), in its own autocommit statement.
function history.record(conn, m, env, attempt)
  conn:query([[
    INSERT INTO stallmig.migrations (name, checksum, started_at, finished_at, duration_ms,
      applied_by, environment, mode, outcome, partial, error, failed_statement, failed_line)
    VALUES ($1, $2, $3::timestamptz, clock_timestamp(),
      1000 * extract(epoch FROM clock_timestamp() - $3::timestamptz),
      $4, $5, $6, $7, $8, $9, $10, $11)]],
    m.name, m.checksum, attempt.started_at, history.applied_by(), env, m.mode,
    attempt.outcome, attempt.partial or false, attempt.error and sys.redact(attempt.error),
    attempt.statement, attempt.line)
end

-- An attempt outside stallrun's own transaction (self-managed or
-- non-transactional) is recorded BEFORE its first statement runs, as failed
-- part-way: if stallrun is killed or loses its connection, deploy finds it
-- and refuses until it is resolved. history.progress moves its statement
-- number on as statements commit; history.finish records the outcome in the
-- same row (one row per attempt). Returns the row's id.
local UNFINISHED = "did not finish: stallrun stopped or lost its connection while it ran "
  .. "(killed, server restarted, or session terminated)"

function history.begin(conn, m, env, failed_outcome)
  local first = m.script.statements[1]
  return conn:query([[
    INSERT INTO stallmig.migrations (name, checksum, started_at, applied_by, environment, mode,
      outcome, partial, error, failed_statement, failed_line)
    VALUES ($1, $2, clock_timestamp(), $3, $4, $5, $8, true, $6, 1, $7) RETURNING id]],
    m.name, m.checksum, history.applied_by(), env, m.mode, UNFINISHED, first and first.line,
    failed_outcome or "failed")[1].id
end

-- statement: the number of the first statement not yet committed; line: its
-- line. Between two statements of a migration, which may have changed role.
function history.progress(conn, id, statement, line)
  local q = function(v) return v == nil and "NULL" or conn:escape_literal(tostring(v)) end
  local ok, err = pcall(conn.exec, conn, "BEGIN; " .. history.AS_CONNECTING_ROLE
    .. "; UPDATE stallmig.migrations SET failed_statement = " .. q(statement) .. ", failed_line = "
    .. q(line) .. " WHERE id = " .. q(id) .. "; COMMIT")
  if not ok then
    if conn:transaction_status() ~= "idle" then pcall(conn.exec, conn, "ROLLBACK") end
    error(err, 0)
  end
end

-- attempt: outcome ("applied" | "failed"), partial, error, statement, line.
function history.finish(conn, id, attempt)
  local applied = attempt.outcome == "applied"
  conn:query([[
    UPDATE stallmig.migrations
       SET finished_at = clock_timestamp(),
           duration_ms = 1000 * extract(epoch FROM clock_timestamp() - started_at),
           outcome = $2, partial = $3, error = $4, failed_statement = $5, failed_line = $6
     WHERE id = $1]], id, attempt.outcome, not applied and (attempt.partial or false),
    attempt.error and sys.redact(attempt.error), not applied and attempt.statement or nil,
    not applied and attempt.line or nil)
end

-- history.finish of an applied attempt as SQL text, to send in the round
-- trip that follows its last statement (after the session's reset, so as
-- the connecting role). outcome as in history.applied_sql.
function history.applied_finish_sql(conn, id, outcome)
  return "UPDATE stallmig.migrations SET finished_at = clock_timestamp(), "
    .. "duration_ms = 1000 * extract(epoch FROM clock_timestamp() - started_at), outcome = "
    .. conn:escape_literal(outcome or "applied") .. ", "
    .. "partial = false, error = NULL, failed_statement = NULL, failed_line = NULL WHERE id = "
    .. conn:escape_literal(tostring(id))
end

-- A backfill's checkpoint (docs/zero-downtime.md) on attempt `id`, as SQL
-- text: sent in the batch's own transaction, so the two commit together.
function history.checkpoint_sql(conn, id, checkpoint)
  return history.AS_CONNECTING_ROLE .. ";\nUPDATE stallmig.migrations SET checkpoint = "
    .. conn:escape_literal(checkpoint) .. " WHERE id = " .. conn:escape_literal(tostring(id))
end

-- The checkpoint an attempt that stopped left (text), or nil.
function history.checkpoint(conn, id)
  local row = conn:query("SELECT checkpoint FROM stallmig.migrations WHERE id = $1", id)[1]
  return row and row.checkpoint
end

-- The latest row of migration `name` (outcome, partial, failed_statement,
-- checksum), or nil.
function history.latest(conn, name)
  return conn:query([[SELECT outcome, partial, failed_statement, checksum FROM stallmig.migrations
                       WHERE name = $1 ORDER BY id DESC LIMIT 1]], name)[1]
end

-- The server's clock, for started_at of attempts recorded afterwards.
function history.now(conn)
  return conn:query("SELECT clock_timestamp()::text AS now")[1].now
end

return history
