-- stallmig.backfill — an UPDATE of a phased migration's backfill section,
-- run in key-range batches (docs/zero-downtime.md): each batch is the
-- UPDATE with its WHERE narrowed to the next `backfill_batch` keys of the
-- table's one-column primary key, committed with the checkpoint (the last
-- key done) on the attempt's history row, so an interrupted run resumes
-- after the last batch that committed. The range ends at the largest key
-- when the backfill started: rows inserted later are the application's
-- (and the expand's sync trigger's). Between batches it sleeps
-- `backfill_pause` and, while a replica's replay lag is over
-- `backfill_max_lag`, waits; every few seconds it says how far it is.
-- With `backfill_batch_time`, batches are sized to take about that long.
-- A batch holds its rows' locks until it commits, so it does not start
-- while the server's WAL writer is stuck (wal_written below).
local sys = require("stallmig.sys")
local json = require("stallmig.json")
local history = require("stallmig.history")
local interrupt = require("stallmig.interrupt")

local backfill = {}

-- target(statement) -> {schema, name, alias, where_end} | nil, why:
-- the table an UPDATE statement writes, and the byte after which its WHERE
-- clause's condition starts (nil: no WHERE).
local function target(statement)
  local tree = require("stallmig.sql").parse(statement.text)
  local u = tree.stmts[1].stmt.UpdateStmt
  if u == nil then return nil, "a backfill statement is an UPDATE" end
  if u.withClause or u.returningList then return nil, "a backfill UPDATE has no WITH or RETURNING clause" end
  local rel = u.relation
  local t = { schema = rel.schemaname, name = rel.relname, alias = rel.alias and rel.alias.aliasname }
  if not u.whereClause then return t end
  local first = math.huge             -- where the condition's first token is (0-based)
  local function walk(node)
    if type(node) ~= "table" then return end
    if type(node.location) == "number" and node.location >= 0 and node.location < first then first = node.location end
    for _, child in pairs(node) do walk(child) end
  end
  walk(u.whereClause)
  local lower, pos = statement.text:lower(), 1
  while true do                       -- the last WHERE keyword before it
    local s, e = lower:find("%f[%w_]where%f[^%w_]", pos)
    if not s or s > first + 1 then break end
    t.where_end, pos = e, e + 1
  end
  if not t.where_end then return nil, "its WHERE clause could not be found in the text" end
  return t
end

-- The UPDATE with `range` added to its WHERE clause.
local function narrowed(text, t, range)
  if not t.where_end then return text .. "\n WHERE " .. range end
  return text:sub(1, t.where_end) .. " (" .. text:sub(t.where_end + 1) .. "\n) AND " .. range
end

local KEY = [[
  SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
   WHERE i.indrelid = to_regclass($1) AND i.indisprimary AND i.indnatts = 1]]

local CHECKPOINT = [[
  SELECT c->>'lo' AS lo, c->>'max' AS max, (c->>'done')::bigint AS done, (c->>'total')::bigint AS total
    FROM (SELECT $1::json AS c) x]]

local LAG = [[
  SELECT count(*) AS replicas, coalesce(max(extract(epoch FROM replay_lag)), 0)::float8 AS lag
    FROM pg_stat_replication]]

-- Waits while a replica replays more than backfill_max_lag behind.
local function wait_for_replicas(conn, settings, what)
  local limit, said = settings.backfill_max_lag or 10, false
  while true do
    local r = conn:query(LAG)[1]
    if r.replicas == 0 or r.lag <= limit then return end
    if not said then
      sys.warn(string.format("%s: a replica replays %.1fs behind (backfill_max_lag %.1fs); waiting", what, r.lag, limit))
      said = true
    end
    sys.sleep(math.max(0.1, math.min(5, limit / 2)))
  end
end

-- The WAL gate. A batch commits with synchronous_commit off, so the WAL it
-- inserted is written out by the server's WAL writer a moment later. Now
-- and then the WAL writer is stuck for a tenth of a second or more (it
-- zero-fills and fsyncs a new WAL segment; a checkpoint ends with
-- fsyncs), and a batch that runs meanwhile waits for it (LWLock WALWrite,
-- or BufferContent on a page the checkpointer holds while it waits), with
-- its rows locked. wal_written(r) is false while the writer is stuck: it
-- has not written what the batch before the last inserted (normally it
-- writes a batch's WAL within a millisecond of its commit; the last
-- batch's own WAL may still be waiting, and waiting for that too would
-- cost a wait after nearly every batch: 15% of the time at 10 million
-- rows); then the backfill waits for it, holding no lock. The keys query
-- reads the positions, so a batch costs no extra round trip unless the
-- writer is stuck.
local WAL_PAGE = 8192                 -- a partly filled page may stay unwritten
local function wal_written(r)
  return r.wal_behind_before_last <= WAL_PAGE
end

local WRITTEN = "SELECT pg_wal_lsn_diff($1::pg_lsn, pg_current_wal_lsn()) <= " .. WAL_PAGE .. " AS done"
local FLUSHED = "SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn AS done"
local WAL_END = "SELECT pg_current_wal_insert_lsn()::text AS lsn"

-- Waits (at most 10 s: then it goes on) until the server has written out
-- (`done` WRITTEN) or flushed (FLUSHED) the WAL up to `lsn`; after a
-- second it says so, once.
local function wait_for_wal_writer(conn, done, lsn, what)
  local started, said = sys.clock(), false
  while not conn:query(done, lsn)[1].done do
    local waited = sys.clock() - started
    if waited >= 10 then return end
    if waited >= 1 and not said then
      sys.warn(what .. ": the server has not written out its WAL for 1s (its WAL writer is stuck: a "
        .. "checkpoint's fsync, a new WAL segment, a slow disk); the backfill waits for it, holding no lock")
      said = true
    end
    sys.sleep(0.001)
  end
end

-- The size of the batch after one of `size` rows that took `elapsed`
-- seconds: with backfill_batch_time (`target`, seconds) the size that would
-- take about that long, at most twice or half the last (one slow batch
-- does not swing it), 1 to 10,000,000 rows, as pt-online-schema-change's
-- --chunk-time; without it, the same.
local MAX_BATCH = 10000000
local function next_size(size, elapsed, target)
  if target <= 0 then return size end
  local scaled = size * target / math.max(elapsed, 0.0001)
  return math.max(1, math.min(MAX_BATCH, size * 2, math.max(size // 2, math.floor(scaled))))
end

-- Whether the server shows the WAL positions the gate reads: Amazon
-- Aurora does not (FeatureNotSupported), nor a server that revoked them
-- from the connecting role; then the batches run without the gate, and
-- the backfill says so.
local WAL_POSITIONS = "SELECT pg_current_wal_insert_lsn(), pg_current_wal_lsn(), pg_current_wal_flush_lsn()"
local function gate_possible(conn, what)
  local ok, err = pcall(conn.query, conn, WAL_POSITIONS)
  if ok then return true end
  if type(err) ~= "table" or interrupt.is(err) or conn:transaction_status() ~= "idle" then error(err, 0) end
  sys.warn(what .. ": the server does not show its WAL positions (" .. tostring(err.message):gsub("\n.*", "")
    .. "): the batches run without the WAL gate, and one may hold its rows' locks while the server's WAL writer is stuck")
  return false
end

local function say_progress(what, state, done_here, started, final)
  local elapsed = sys.clock() - started
  local rate = elapsed > 0 and done_here / elapsed or 0
  local left = state.total - state.done
  sys.err(string.format("  %s: %d of %d rows%s, %.0f rows/s%s\n", what, state.done, state.total,
    state.total > 0 and string.format(" (%.0f%%)", 100 * state.done / state.total) or "", rate,
    final and string.format(", done in %.1fs", elapsed)
      or (rate > 0 and left > 0 and string.format(", about %.0fs left", left / rate) or "")))
end

-- The keys queries (the first batch's, the next ones'): the last key of
-- the next batch ($3 keys up to the bound $1, after the last key done $4)
-- and the WAL positions wal_written reads ($2: the WAL's end the last
-- keys query read; without the gate, "0/0" and 0).
local function keys_sql(k, rel, T, gated)
  local inner = "SELECT " .. k .. " AS k FROM " .. rel .. " WHERE " .. k .. " <= $1::" .. T
  local select = "SELECT max(k)::text AS hi, count(*) AS n, " .. (gated
    and "pg_current_wal_insert_lsn()::text AS wal_end, pg_wal_lsn_diff($2::pg_lsn, pg_current_wal_lsn())::float8"
    or "$2::text AS wal_end, 0::float8") .. " AS wal_behind_before_last FROM ("
  return select .. inner .. " ORDER BY k LIMIT $3::bigint) b",
    select .. inner .. " AND " .. k .. " > $4::" .. T .. " ORDER BY k LIMIT $3::bigint) b"
end

-- Runs the backfill step `step` (step number i of m) on conn. opts: settings
-- (the environment's), row (the attempt's history row), checkpoint (its
-- text, to resume), told, what (the step named), failure(statement, err).
-- Returns nil or the failure.
function backfill.run(conn, m, i, step, opts)
  local steps = require("stallmig.steps")
  local s, settings = step.statements[1], opts.settings
  local t, why = target(s)
  if not t then return opts.failure(s, { message = "the backfill cannot be batched: " .. why }) end
  local lit = function(v) return conn:escape_literal(tostring(v)) end
  local rel = (t.schema and (conn:escape_identifier(t.schema) .. ".") or "") .. conn:escape_identifier(t.name)
  local key = conn:query(KEY, rel)[1]
  if not key then
    return opts.failure(s, { message = rel .. " has no one-column primary key to batch the backfill by: give "
      .. "it one in the expand section, or put the UPDATE in the expand section (one transaction)" })
  end
  local k, T = conn:escape_identifier(key.name), key.type
  local qk = conn:escape_identifier(t.alias or t.name) .. "." .. k
  local state
  if opts.checkpoint then
    state = conn:query(CHECKPOINT, opts.checkpoint)[1]
  else
    state = conn:query("SELECT max(" .. k .. ")::text AS max, count(*) AS total FROM " .. rel)[1]
    state.done = 0
  end
  if state.max == nil then return nil end          -- an empty table
  local batch = math.tointeger(settings.backfill_batch or 1000)
  local gated = gate_possible(conn, opts.what)
  local first_keys, next_keys = keys_sql(k, rel, T, gated)
  local target = settings.backfill_batch_time or 0
  local started, said, done_here, lag_read = sys.clock(), sys.clock(), 0, -1
  local wal_end = "0/0"               -- the WAL's end when the last keys query ran
  while true do
    if sys.clock() - lag_read >= 1 then   -- the replicas' lag, read once a second at most
      wait_for_replicas(conn, settings, opts.what)
      lag_read = sys.clock()
    end
    local r = state.lo and conn:query(next_keys, state.max, wal_end, batch, state.lo)[1]
      or conn:query(first_keys, state.max, wal_end, batch)[1]
    if r.n == 0 then break end
    if not wal_written(r) then wait_for_wal_writer(conn, WRITTEN, r.wal_end, opts.what) end
    wal_end = r.wal_end
    local range = qk .. " <= " .. lit(r.hi) .. "::" .. T
      .. (state.lo and (" AND " .. qk .. " > " .. lit(state.lo) .. "::" .. T) or "")
    local checkpoint = json.encode({ lo = r.hi, max = state.max, done = state.done + r.n, total = state.total })
    -- synchronous_commit off: a batch and its checkpoint commit together, so a
    -- crash loses both or neither (the run then resumes at the last one
    -- flushed); after the last batch the backfill waits for the flush
    local text = "BEGIN;\nSET LOCAL synchronous_commit = off;\n" .. narrowed(s.text, t, range) .. ";\n"
      .. history.checkpoint_sql(conn, opts.row, checkpoint) .. ";\nCOMMIT"
    local took
    local failed = steps.retrying(conn, settings, opts.told, opts.what, step, function()
      local began = sys.clock()
      local ok, err = pcall(conn.exec, conn, text)
      if ok then took = sys.clock() - began return nil end
      if type(err) ~= "table" or interrupt.is(err) then error(err, 0) end
      local status = conn:transaction_status()
      if status ~= "idle" and status ~= "unknown" then interrupt.try(conn.exec, conn, "ROLLBACK") end
      return opts.failure(s, err)
    end)
    if failed then return failed end
    state.lo, state.done, done_here = r.hi, state.done + r.n, done_here + r.n
    batch = next_size(batch, took, target)
    if sys.clock() - said >= 5 then
      say_progress(opts.what, state, done_here, started)
      said = sys.clock()
    end
    if (settings.backfill_pause or 0) > 0 then sys.sleep(settings.backfill_pause) end
  end
  -- the history's next write commits synchronously: it would wait for the
  -- batches' WAL to be flushed, holding its row, unless the WAL writer
  -- (within wal_writer_delay) did that first
  if gated then wait_for_wal_writer(conn, FLUSHED, conn:query(WAL_END)[1].lsn, opts.what) end
  say_progress(opts.what, state, done_here, started, true)
  return nil
end

return backfill
