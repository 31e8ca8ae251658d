-- stallmig.snapshot — a schema described as plain Lua data, read from the
-- catalogs: schemas, tables and columns, constraints, indexes, enums,
-- sequences, views, functions, triggers, extensions. stallmig's own schema
-- and the system's are left out. Everything is keyed by a qualified name,
-- so two snapshots compare key by key (stallmig.schemadiff).
local snapshot = {}

local USER_SCHEMA = [[
  n.nspname NOT IN ('pg_catalog', 'information_schema', 'stallmig', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = n.oid AND d.deptype = 'e')]]

local QUERIES = {
  schemas = [[SELECT n.nspname AS key FROM pg_namespace n WHERE ]] .. USER_SCHEMA,
  columns = [[
    SELECT n.nspname || '.' || c.relname AS tbl, a.attname AS name,
           format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
           pg_get_expr(d.adbin, d.adrelid) AS "default",
           nullif(a.attidentity, '') AS identity, nullif(a.attgenerated, '') AS generated, a.attnum
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attnum > 0 AND NOT a.attisdropped AND ]] .. USER_SCHEMA .. [[
     ORDER BY 1, a.attnum]],
  constraints = [[
    SELECT n.nspname || '.' || c.relname AS tbl, k.conname AS name, k.contype AS kind,
           pg_get_constraintdef(k.oid) AS definition
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND ]] .. USER_SCHEMA,
  indexes = [[
    SELECT n.nspname || '.' || i.relname AS key, n.nspname || '.' || t.relname AS tbl,
           pg_get_indexdef(i.oid) AS definition, x.indisvalid AS valid
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = i.relnamespace
     WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
       AND ]] .. USER_SCHEMA,
  enums = [[
    SELECT n.nspname || '.' || t.typname AS key, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS labels
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE ]] .. USER_SCHEMA .. [[ GROUP BY 1]],
  sequences = [[
    SELECT n.nspname || '.' || c.relname AS key, format_type(s.seqtypid, NULL) AS type,
           s.seqincrement::text AS increment, s.seqstart::text AS start
      FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE ]] .. USER_SCHEMA,
  views = [[
    SELECT n.nspname || '.' || c.relname AS key, c.relkind AS kind, pg_get_viewdef(c.oid) AS definition
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('v', 'm') AND ]] .. USER_SCHEMA,
  functions = [[
    SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key,
           md5(pg_get_functiondef(p.oid)) AS body_hash
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.prokind IN ('f', 'p') AND ]] .. USER_SCHEMA,
  triggers = [[
    SELECT n.nspname || '.' || c.relname || '.' || g.tgname AS key, pg_get_triggerdef(g.oid) AS definition
      FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT g.tgisinternal AND ]] .. USER_SCHEMA,
  extensions = [[SELECT extname AS key, extversion AS version FROM pg_extension WHERE extname <> 'plpgsql']],
}

local function keyed(rows)
  local out = {}
  for _, row in ipairs(rows) do out[row.key] = row; row.key = nil end
  return out
end

-- The schema of the database behind conn (read-only queries).
function snapshot.read(conn)
  local s = { tables = {} }
  for _, what in ipairs({ "schemas", "indexes", "enums", "sequences", "views", "functions",
      "triggers", "extensions" }) do
    s[what] = keyed(conn:query(QUERIES[what]))
  end
  for _, col in ipairs(conn:query(QUERIES.columns)) do
    local t = s.tables[col.tbl] or { columns = {}, constraints = {}, order = {} }
    s.tables[col.tbl] = t
    t.columns[col.name] = { type = col.type, not_null = col.not_null, default = col.default,
      identity = col.identity, generated = col.generated }
    t.order[#t.order + 1] = col.name
  end
  for _, k in ipairs(conn:query(QUERIES.constraints)) do
    local t = s.tables[k.tbl]
    if t then t.constraints[k.name] = { kind = k.kind, definition = k.definition } end
  end
  for name, idx in pairs(s.indexes) do idx.definition = idx.definition:gsub(" ON ONLY ", " ON ") end
  return s
end

return snapshot
