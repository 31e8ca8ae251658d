-- stallmig.evidence — what a migration's risky statements would cost, read
-- from the target database: rows a DROP TABLE / TRUNCATE / DELETE-all would
-- discard, non-null values a DROP COLUMN or a type change would lose, the size
-- of a table a statement rewrites or locks. SELECT only (a protected
-- connection lets nothing else through). Counts are exact below the
-- environment's exact_count_below, catalog estimates (pg_class.reltuples,
-- pg_stats.null_frac, a TABLESAMPLE) at or above it.
local evidence = {}

-- The relation a target names (schema nil: the search_path decides), or nil
-- when it does not exist.
local RELATION = [[
  SELECT c.oid::bigint AS oid, n.nspname, c.relname, c.reltuples::float8 AS reltuples,
         pg_total_relation_size(c.oid) AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = to_regclass(CASE WHEN $1::text IS NULL THEN format('%I', $2::text)
                                  ELSE format('%I.%I', $1::text, $2::text) END)]]

local COLUMN = [[
  SELECT format_type(a.atttypid, a.atttypmod) AS type,
         (SELECT s.null_frac::float8 FROM pg_stats s WHERE s.schemaname = $2 AND s.tablename = $3
             AND s.attname = a.attname ORDER BY s.inherited LIMIT 1) AS null_frac
    FROM pg_attribute a
   WHERE a.attrelid = $1::bigint::oid AND a.attname = $4 AND a.attnum > 0 AND NOT a.attisdropped]]

local SCHEMA_TABLES = [[
  SELECT c.oid::bigint AS oid, n.nspname, c.relname, c.reltuples::float8 AS reltuples,
         pg_total_relation_size(c.oid) AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relkind IN ('r', 'm') ORDER BY c.relname]]

-- A type (schema nil: the search_path decides) and the table columns of it.
local TYPE_USE = [[
  SELECT t.oid::bigint AS oid, format_type(t.oid, NULL) AS name,
         (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE a.atttypid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
             AND c.relkind IN ('r', 'p', 'm')) AS columns
    FROM pg_type t
   WHERE t.oid = to_regtype(CASE WHEN $1::text IS NULL THEN format('%I', $2::text)
                                 ELSE format('%I.%I', $1::text, $2::text) END)]]

local function qualified(conn, rel)
  return conn:escape_identifier(rel.nspname) .. "." .. conn:escape_identifier(rel.relname)
end

local function estimated(rel, env)
  return rel.reltuples >= 0 and rel.reltuples >= (env.exact_count_below or 1000000)
end

-- Rows in rel, and whether the figure is exact.
local function row_count(conn, env, rel)
  if estimated(rel, env) then return math.floor(rel.reltuples + 0.5), false end
  return conn:query("SELECT count(*) AS n FROM " .. qualified(conn, rel))[1].n, true
end

-- "varchar(20)" / "character varying(20)" / "char(3)" -> 20 / 3, else nil.
function evidence.length_limit(new_type)
  local t = (new_type or ""):lower()
  local n = t:match("^%s*character%s+varying%s*%(%s*(%d+)%s*%)%s*$")
    or t:match("^%s*varchar%s*%(%s*(%d+)%s*%)%s*$")
    or t:match("^%s*character%s*%(%s*(%d+)%s*%)%s*$")
    or t:match("^%s*bpchar%s*%(%s*(%d+)%s*%)%s*$")
    or t:match("^%s*char%s*%(%s*(%d+)%s*%)%s*$")
  return n and tonumber(n)
end

-- Non-null values of a column (and how many are longer than `limit`).
local function column_values(conn, env, rel, column, limit)
  local info = conn:query(COLUMN, rel.oid, rel.nspname, rel.relname, column)[1]
  if not info then return nil end
  local col = conn:escape_identifier(column)
  local out = { current_type = info.type, exact = not estimated(rel, env) }
  if out.exact then
    local r = conn:query("SELECT count(" .. col .. ") AS non_null"
      .. (limit and (", count(*) FILTER (WHERE length(" .. col .. "::text) > " .. limit .. ") AS longer") or "")
      .. " FROM " .. qualified(conn, rel))[1]
    out.non_null, out.longer = r.non_null, r.longer
    return out
  end
  out.non_null = math.floor(rel.reltuples * (1 - (info.null_frac or 0)) + 0.5)
  if limit then             -- a sample of about 100000 rows, scaled up
    local percent = math.max(0.0001, math.min(100, 100 * 100000 / math.max(rel.reltuples, 1)))
    local r = conn:query("SELECT count(*) AS sampled, count(*) FILTER (WHERE length(" .. col
      .. "::text) > " .. limit .. ") AS longer FROM " .. qualified(conn, rel)
      .. " TABLESAMPLE SYSTEM (" .. string.format("%.6f", percent) .. ")")[1]
    out.longer = r.sampled > 0 and math.floor(r.longer / r.sampled * rel.reltuples + 0.5) or 0
  end
  return out
end

local function schema_rows(conn, env, schema)
  local exists = conn:query("SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1", schema)[1].n > 0
  if not exists then return nil end
  local total, exact, tables, bytes = 0, true, 0, 0
  for _, rel in ipairs(conn:query(SCHEMA_TABLES, schema)) do
    local n, is_exact = row_count(conn, env, rel)
    total, exact, tables, bytes = total + n, exact and is_exact, tables + 1, bytes + rel.bytes
  end
  return { rows = total, exact = exact, tables = tables, bytes = bytes }
end

local LOSES_ROWS = { drop_table = true, truncate = true, delete_all = true, update_all = true }
local SIZE_ONLY = { rewrite = true, lock = true }
-- ADD COLUMN NOT NULL without DEFAULT fails on a table with a row (nothing is lost)
local FAILS_ON_ROWS = { add_required = true }

-- The figures for one target (a table in this order: what lint said, then
-- what the database holds). item.exists is false for a table or column that
-- is not there yet: nothing to lose.
function evidence.measure(conn, env, target)
  local item = {}
  for k, v in pairs(target) do item[k] = v end
  item.at_risk = false
  if target.action == "drop_type" then
    -- without CASCADE a DROP TYPE that a column uses fails: nothing is lost
    local t = not target.new_table and conn:query(TYPE_USE, target.schema, target.type_name)[1]
    item.exists = t ~= nil and t ~= false
    if item.exists then
      item.columns = t.columns
      item.at_risk = target.cascade == true and t.columns > 0
    end
    return item
  end
  if target.action == "drop_schema" then
    local s = schema_rows(conn, env, target.schema or target.table)
    item.exists = s ~= nil
    if s then
      item.rows, item.exact, item.tables, item.bytes = s.rows, s.exact, s.tables, s.bytes
      item.at_risk = s.rows > 0
    end
    return item
  end
  local rel = not target.new_table and conn:query(RELATION, target.schema, target.table)[1]
  item.exists = rel ~= nil and rel ~= false
  if not item.exists then return item end
  item.schema = rel.nspname
  if LOSES_ROWS[target.action] or SIZE_ONLY[target.action] or FAILS_ON_ROWS[target.action] then
    item.rows, item.exact = row_count(conn, env, rel)
    item.bytes = rel.bytes
    item.at_risk = not SIZE_ONLY[target.action] and item.rows > 0
  elseif target.action == "drop_column" or target.action == "alter_type" then
    item.length = target.action == "alter_type" and evidence.length_limit(target.new_type) or nil
    local v = column_values(conn, env, rel, target.column, item.length)
    item.exists = v ~= nil
    if v then
      item.current_type, item.non_null, item.longer, item.exact = v.current_type, v.non_null, v.longer, v.exact
      item.at_risk = target.action == "drop_column" and v.non_null > 0 or (v.longer or 0) > 0
    end
  end
  return item
end

-- The figures for every target; a failed look-up (no privilege on a table)
-- becomes a note on that item, not a failed verify.
function evidence.gather(conn, env, targets)
  local items = {}
  for i, target in ipairs(targets or {}) do
    local ok, item = pcall(evidence.measure, conn, env, target)
    if not ok then
      if type(item) == "table" and item.kind == "interrupted" then error(item, 0) end
      item = { action = target.action, schema = target.schema, table = target.table, column = target.column,
        line = target.line, statement = target.statement,
        unknown = type(item) == "table" and tostring(item.message) or tostring(item) }
    end
    items[i] = item
  end
  return items
end

-- ---- in words ------------------------------------------------------------

function evidence.count_text(n, exact)
  return (exact and "" or "~") .. string.format("%d", n)
end

function evidence.size_text(bytes)
  local units, value, i = { "bytes", "kB", "MB", "GB", "TB" }, bytes, 1
  while value >= 10240 and i < #units do value, i = value / 1024, i + 1 end
  return i == 1 and string.format("%d bytes", value) or string.format("%.0f %s", value, units[i])
end

local function name_of(item)
  local t = (item.schema and (item.schema .. ".") or "") .. tostring(item.table or item.type_name)
  return item.column and (t .. "." .. item.column) or t
end

local LABEL = {
  drop_table = "DROP TABLE %s", truncate = "TRUNCATE %s", delete_all = "DELETE of every row of %s",
  update_all = "UPDATE of every row of %s", drop_column = "DROP COLUMN %s", alter_type = "type change of %s",
  drop_schema = "DROP SCHEMA %s", rewrite = "rewrite of %s", lock = "lock on %s",
  drop_type = "DROP TYPE %s", add_required = "ADD COLUMN %s NOT NULL without DEFAULT",
}

local function figures(item)
  local rows = item.rows and (evidence.count_text(item.rows, item.exact) .. " row(s)")
  local a = item.action
  if a == "drop_table" or a == "truncate" or a == "delete_all" then return rows .. " would be discarded" end
  if a == "update_all" then return rows .. " would be rewritten" end
  if a == "add_required" then
    return item.rows == 0 and "the table is empty, so it succeeds"
      or ("the table holds " .. rows .. ", so it fails (nothing is lost)")
  end
  if a == "rewrite" or a == "lock" then return "the table holds " .. rows .. ", " .. evidence.size_text(item.bytes) end
  if a == "drop_schema" then
    return string.format("%d table(s) holding %s would be discarded", item.tables, rows)
  end
  if a == "drop_type" then
    if item.columns == 0 then return "no column uses it, nothing to lose" end
    return string.format("%d column(s) use it: %s", item.columns, item.cascade
      and "CASCADE would drop them with their values" or "the DROP fails while they do (nothing is lost)")
  end
  local values = evidence.count_text(item.non_null, item.exact) .. " non-null value(s)"
  if a == "drop_column" then return "the column contains " .. values .. " that would be lost" end
  local text = string.format("%s -> %s: the column contains %s", item.current_type, tostring(item.new_type), values)
  if item.length then
    text = text .. string.format(", %s longer than %d", evidence.count_text(item.longer or 0, item.exact), item.length)
  end
  return text
end

-- One sentence: "DROP TABLE public.users (line 3): 1204 row(s) would be discarded".
function evidence.describe(item)
  local label = string.format(LABEL[item.action] or (tostring(item.action) .. " of %s"),
    item.action == "drop_schema" and tostring(item.schema or item.table) or name_of(item))
  local by = (item.action == "lock" or item.action == "rewrite") and item.what
  if item.line or by then
    label = label .. " (" .. (by and (by .. (item.line and ", " or "")) or "")
      .. (item.line and ("line " .. item.line) or "") .. ")"
  end
  if item.unknown then return label .. ": could not be measured: " .. item.unknown end
  if item.new_table then return label .. ": created in this run, nothing to lose" end
  if not item.exists then return label .. ": does not exist yet, nothing to lose" end
  return label .. ": " .. figures(item)
end

return evidence
