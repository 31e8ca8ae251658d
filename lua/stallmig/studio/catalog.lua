-- stallmig.studio.catalog — what the studio knows of a database, read from
-- pg_catalog with parameters: relations with estimated rows and size, a
-- relation's columns, primary key and foreign keys (both ways).
local catalog = {}

local SEP = "\31"   -- unit separator: joins column names, which may hold commas

local RELATIONS = [[
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, c.oid::bigint AS oid,
       greatest(c.reltuples, 0)::bigint AS estimate,
       CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_total_relation_size(c.oid) END AS bytes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
 ORDER BY n.nspname, c.relname]]

function catalog.relations(conn)
  return conn:query(RELATIONS)
end

-- The relation schema.name, or nil when there is none.
function catalog.relation(conn, schema, name)
  return conn:query([[
SELECT c.oid::bigint AS oid, c.relkind AS kind, greatest(c.reltuples, 0)::bigint AS estimate
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm')]], schema, name)[1]
end

-- Columns in order: {name, type, typtype, category, notnull}; by_name too.
function catalog.columns(conn, oid)
  local cols = conn:query([[
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typtype,
       t.typcategory AS category, a.attnotnull AS notnull, t.typname
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
 WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum]], oid)
  cols.by_name = {}
  for i, c in ipairs(cols) do c.index = i; cols.by_name[c.name] = c end
  return cols
end

-- The primary key's column names, in key order ({} when there is none).
function catalog.primary_key(conn, oid)
  local names = {}
  for _, r in ipairs(conn:query([[
SELECT a.attname AS name FROM pg_index i
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
 WHERE i.indrelid = $1::oid AND i.indisprimary
 ORDER BY array_position(i.indkey::int2[], a.attnum)]], oid)) do names[#names + 1] = r.name end
  return names
end

local function split(s)
  local t = {}
  for part in ((s or "") .. SEP):gmatch("(.-)" .. SEP) do t[#t + 1] = part end
  return t
end

local FKS = [[
SELECT c.conname AS name, sn.nspname AS schema, sc.relname AS "table",
       tn.nspname AS ref_schema, tc.relname AS ref_table,
       (SELECT string_agg(a.attname, chr(31) ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(att, n)
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att) AS cols,
       (SELECT string_agg(a.attname, chr(31) ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(att, n)
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att) AS ref_cols
  FROM pg_constraint c
  JOIN pg_class sc ON sc.oid = c.conrelid JOIN pg_namespace sn ON sn.oid = sc.relnamespace
  JOIN pg_class tc ON tc.oid = c.confrelid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
 WHERE c.contype = 'f' AND %s
 ORDER BY c.conname]]

local function fks(conn, where, ...)
  local rows = conn:query(string.format(FKS, where), ...)
  for _, r in ipairs(rows) do r.cols, r.ref_cols = split(r.cols), split(r.ref_cols) end
  return rows
end

-- Foreign keys of oid (it references) and to oid (others reference it);
-- every one in the database when oid is nil (the schema diagram).
function catalog.outgoing(conn, oid) return fks(conn, "c.conrelid = $1::oid", oid) end
function catalog.incoming(conn, oid) return fks(conn, "c.confrelid = $1::oid", oid) end
function catalog.all_foreign_keys(conn)
  return fks(conn, "sn.nspname NOT IN ('pg_catalog', 'information_schema')")
end

return catalog
