-- stallmig.indexbuild — the INVALID index a failed CREATE INDEX CONCURRENTLY
-- leaves behind.
--
-- PostgreSQL commits a concurrent build's catalog entry before it builds, so
-- a build that fails (a unique index over duplicate rows) or is cancelled
-- leaves an INVALID index, and the retry fails ("relation already exists").
-- Which index the attempt created is known, not guessed: the table's invalid
-- indexes before the statement and after its failure differ by it (also for
-- an unnamed CREATE INDEX CONCURRENTLY ON t (c), whose name the server
-- picks). The attempt's history row records it in its note (by OID); when that
-- migration runs again, exactly that index (same OID, same name, still
-- invalid) is dropped first. An invalid index that was there before the
-- attempt (made by hand, or by an attempt whose connection died and so
-- recorded nothing) is never dropped: the failure names the DROP INDEX to run.
local sql = require("stallmig.sql")

local indexbuild = {}

-- The invalid indexes on a table, named as the server quotes them.
local INVALID_ON_TABLE = [[
  SELECT i.indexrelid::bigint AS oid, c.relname, format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE NOT i.indisvalid
     AND i.indrelid = to_regclass(CASE WHEN $1::text IS NULL THEN quote_ident($2)
                                       ELSE quote_ident($1) || '.' || quote_ident($2) END)]]

local BY_OID = [[
  SELECT format('%I.%I', n.nspname, c.relname) AS name, i.indisvalid AS valid
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE i.indexrelid = $1::bigint::oid]]

-- The note goes on the attempt's own row: the latest of that migration.
local REMEMBER = [[
  UPDATE stallmig.migrations SET note = $2
   WHERE id = (SELECT max(id) FROM stallmig.migrations WHERE name = $1) AND outcome = 'failed']]

local LAST_FAILED_NOTE = [[
  SELECT note FROM stallmig.migrations
   WHERE name = $1 AND outcome = 'failed' ORDER BY id DESC LIMIT 1]]

local NOTE = "left the invalid index %s behind (oid %d)"
local NOTE_PATTERN = "^left the invalid index (.+) behind %(oid (%d+)%)$"

-- {schema, table, name} of a CREATE INDEX CONCURRENTLY statement, else nil.
function indexbuild.target(statement)
  if statement.kind ~= "IndexStmt" then return nil end
  local ok, tree = pcall(sql.parse, statement.text)
  local stmt = ok and tree.stmts and tree.stmts[1] and tree.stmts[1].stmt
  local node = stmt and stmt.IndexStmt
  if not (node and node.concurrent and node.relation) then return nil end
  return { schema = node.relation.schemaname, table = node.relation.relname, name = node.idxname,
    if_not_exists = node.if_not_exists }
end

-- After a CREATE INDEX CONCURRENTLY IF NOT EXISTS succeeded: the server
-- skips the build when an index of that name exists, even an INVALID one.
-- Returns the error to fail with then, else nil.
function indexbuild.check_skipped(conn, build)
  if not (build.if_not_exists and build.name) then return nil end
  for _, row in pairs(indexbuild.invalid_on(conn, build) or {}) do
    if row.relname == build.name then
      return { message = string.format("the invalid index %s already exists, so IF NOT EXISTS "
        .. "skipped the build and the index is still unusable", row.name),
        index_hint = "drop it: DROP INDEX CONCURRENTLY IF EXISTS " .. row.name .. "; then deploy again" }
    end
  end
  return nil
end

-- The table's invalid indexes by OID, or nil when they cannot be read (a
-- failed transaction, a lost connection).
function indexbuild.invalid_on(conn, build)
  local ok, rows = pcall(conn.query, conn, INVALID_ON_TABLE, build.schema, build.table)
  if not ok then return nil end
  local found = {}
  for _, row in ipairs(rows) do found[row.oid] = row end
  return found
end

-- After the statement failed: { left = row } (the invalid index it created),
-- { there_before = row } (an invalid index of its name that it did not
-- create), or {}; nil when that cannot be told (partial, as before).
function indexbuild.examine(conn, build, before)
  local after = before and indexbuild.invalid_on(conn, build)
  if not after then return nil end
  for oid, row in pairs(after) do
    if not before[oid] then return { left = row } end
  end
  for _, row in pairs(after) do
    if row.relname == build.name then return { there_before = row } end
  end
  return {}
end

-- Says in the failure what was left behind and what happens next (also in
-- failed.index_message, for a message written anew: a lock timeout's, an
-- interruption's); the note goes into the attempt's history row.
function indexbuild.describe(failed, found)
  if found.left then
    local name = found.left.name
    failed.index_message = string.format("; it left the invalid index %s behind: "
      .. "when this migration runs again, stallrun first drops it (DROP INDEX CONCURRENTLY "
      .. "IF EXISTS %s) and builds it anew", name, name)
    failed.note = NOTE:format(name, found.left.oid)
    failed.index_hint = failed.partial
      and ("once it is resolved as rolled back, the retry drops the invalid index " .. name
        .. " first; resolved as applied, drop it yourself: DROP INDEX CONCURRENTLY IF EXISTS " .. name)
      or ("fix the cause and deploy again: the invalid index " .. name .. " is dropped and built again")
  elseif found.there_before then
    local name = found.there_before.name
    failed.index_message = string.format("; the invalid index %s was there before "
      .. "this attempt (stallrun did not create it), so it is left alone", name)
    failed.index_hint = "if it is the leftover of an interrupted build, drop it: "
      .. "DROP INDEX CONCURRENTLY IF EXISTS " .. name .. "; then deploy again"
  end
  if failed.index_message then failed.message = failed.message .. failed.index_message end
end

-- After apply.run recorded m's failed attempt: notes on its history row
-- which invalid index it left (failed.note, from describe). Never raises: a
-- note that could not be written only means the retry drops nothing.
function indexbuild.remember(conn, m, failed)
  if failed.note then pcall(conn.query, conn, REMEMBER, m.name, failed.note) end
end

-- Before m runs again: drops the invalid index its last failed attempt
-- recorded, if it is still that index (same OID and name) and still
-- invalid; true if it did. `say` reports it (stderr).
function indexbuild.drop_leftover(conn, m, say)
  local row = conn:query(LAST_FAILED_NOTE, m.name)[1]
  local name, oid = (row and row.note or ""):match(NOTE_PATTERN)
  if not name then return false end
  local now = conn:query(BY_OID, oid)[1]
  if not now then return false end           -- dropped by hand meanwhile
  if now.name ~= name or now.valid then
    say(string.format("the index %s the failed attempt of %s left behind is now %s %s: left alone",
      name, m.name, now.valid and "a valid index" or "the index", now.name))
    return false
  end
  say(string.format("%s failed before and left the invalid index %s behind: dropping it "
    .. "(DROP INDEX CONCURRENTLY IF EXISTS %s) and trying it again", m.name, now.name, now.name))
  conn:exec("DROP INDEX CONCURRENTLY IF EXISTS " .. now.name)
  return true
end

return indexbuild
