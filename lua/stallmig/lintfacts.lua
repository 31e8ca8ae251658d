-- stallmig.lintfacts — what one parsed statement does to which table, as a
-- list of facts {action, schema, table, column, new_type, what, locks, ...}.
-- Lint rules read these; the facts whose action the evidence step measures
-- are the targets lint.check returns (M.target_actions).
local tree = require("stallmig.sqltree")
local typechange = require("stallmig.typechange")

local M = {}

M.target_actions = {
  drop_table = true, truncate = true, delete_all = true, update_all = true, drop_column = true,
  alter_type = true, drop_schema = true, rewrite = true, lock = true, drop_type = true,
  add_required = true,
}

-- Functions a column default may call without rewriting the table (PG 11+
-- evaluates a non-volatile default once). Anything else is assumed volatile.
local non_volatile = {
  now = true, transaction_timestamp = true, statement_timestamp = true, current_setting = true,
  lower = true, upper = true, concat = true, length = true, to_char = true, to_timestamp = true,
  to_date = true, jsonb_build_object = true, json_build_object = true, jsonb_build_array = true,
  json_build_array = true, make_date = true, make_interval = true, ["timezone"] = true,
}

M.volatile_known = {
  random = true, clock_timestamp = true, gen_random_uuid = true, uuid_generate_v1 = true,
  uuid_generate_v4 = true, timeofday = true, nextval = true, txid_current = true, setseed = true,
}

-- Why adding this column fills every row, or nil (a ColumnDef node).
function M.rewriting_column(col)
  local t = col.typeName and tree.type_of(col.typeName)
  if t and (t.base == "serial" or t.base == "bigserial" or t.base == "smallserial"
      or t.base == "serial4" or t.base == "serial8" or t.base == "serial2") then
    return "a " .. t.base .. " column fills every row from a sequence"
  end
  for _, c in ipairs(col.constraints or {}) do
    local k = c.Constraint or {}
    if k.contype == "CONSTR_IDENTITY" then return "an identity column fills every row from a sequence" end
    if k.contype == "CONSTR_GENERATED" then return "a stored generated column is computed for every row" end
    if k.contype == "CONSTR_DEFAULT" then
      for _, name in ipairs(tree.calls(k.raw_expr)) do
        if M.volatile_known[name] then return "the default calls " .. name .. "(), which is volatile" end
        if not non_volatile[name] then
          return "the default calls " .. name .. "(), which is volatile unless declared STABLE or IMMUTABLE"
        end
      end
    end
  end
  return nil
end

-- Whether adding this column (a ColumnDef) needs a value in every existing
-- row that nothing gives it: NOT NULL (or PRIMARY KEY) without a DEFAULT,
-- an identity, a generated expression or a serial type.
function M.requires_value(col)
  local t = col.typeName and tree.type_of(col.typeName)
  if t and t.base:match("serial[248]?$") then return false end
  local required = col.is_not_null == true
  for _, c in ipairs(col.constraints or {}) do
    local k = c.Constraint and c.Constraint.contype
    if k == "CONSTR_NOTNULL" or k == "CONSTR_PRIMARY" then required = true end
    if k == "CONSTR_DEFAULT" or k == "CONSTR_IDENTITY" or k == "CONSTR_GENERATED" then return false end
  end
  return required
end

-- ---- one fact per thing a statement does ----------------------------------

local function fact(out, action, schema, table, extra)
  local f = extra or {}
  f.action, f.schema, f.table = action, schema, table
  out[#out + 1] = f
  return f
end

local function on_relations(out, list, action, what, locks)
  for _, rv in ipairs(list or {}) do
    local schema, name = tree.relation(rv.VacuumRelation and rv.VacuumRelation.relation or rv)
    if name then fact(out, action, schema, name, { what = what, locks = locks }) end
  end
end

-- IS NOT NULL checks: the column a CHECK (col IS NOT NULL) constraint proves.
local function not_null_column(expr)
  local test = expr and expr.NullTest
  if not (test and test.nulltesttype == "IS_NOT_NULL") then return nil end
  local ref = test.arg and test.arg.ColumnRef
  return ref and tree.str(ref.fields[#ref.fields])
end

local constraint_words = {
  CONSTR_FOREIGN = "ADD FOREIGN KEY", CONSTR_CHECK = "ADD CHECK", CONSTR_PRIMARY = "ADD PRIMARY KEY",
  CONSTR_UNIQUE = "ADD UNIQUE", CONSTR_EXCLUSION = "ADD EXCLUDE",
}

local function add_constraint(out, schema, name, k)
  local what = constraint_words[k.contype]
  if k.contype == "CONSTR_CHECK" then
    fact(out, "add_check", schema, name, { column = not_null_column(k.raw_expr),
      constraint = k.conname, valid = not k.skip_validation })
  end
  if (k.contype == "CONSTR_FOREIGN" or k.contype == "CONSTR_CHECK") and not k.skip_validation then
    fact(out, "lock", schema, name, { what = what .. " without NOT VALID", locks = true, validates = k.contype })
    if k.contype == "CONSTR_FOREIGN" then
      local ps, pn = tree.relation(k.pktable)
      fact(out, "lock", ps, pn, { what = "ADD FOREIGN KEY (referenced table)", locks = true,
        referenced_by = { schema, name } })
    end
  elseif (k.contype == "CONSTR_PRIMARY" or k.contype == "CONSTR_UNIQUE" or k.contype == "CONSTR_EXCLUSION")
      and not k.indexname then
    fact(out, "lock", schema, name, { what = what .. " (builds its index under the lock)", locks = true,
      builds_index = what })
  else
    fact(out, "brief_lock", schema, name, { what = what or "ADD CONSTRAINT", locks = true })
  end
end

local function alter_type(out, schema, name, cmd, known_type)
  local col = cmd.def.ColumnDef
  local new = tree.type_of(col.typeName)
  local old = known_type(schema, name, cmd.name)
  fact(out, "alter_type", schema, name, { column = cmd.name, new_type = new.sql, old_type = old and old.sql,
    what = "ALTER COLUMN TYPE", locks = true, type = new, old = old, using = col.raw_default ~= nil })
  if typechange.rewrites(old, new, col.raw_default) then
    fact(out, "rewrite", schema, name, { column = cmd.name, what = "ALTER COLUMN TYPE", locks = true })
  end
end

local alter_cmd = {
  AT_DropColumn = function(out, s, n, cmd)
    fact(out, "drop_column", s, n, { column = cmd.name, what = "DROP COLUMN", locks = true })
  end,
  AT_AlterColumnType = alter_type,
  AT_SetNotNull = function(out, s, n, cmd)
    fact(out, "set_not_null", s, n, { column = cmd.name, what = "SET NOT NULL", locks = true })
    fact(out, "lock", s, n, { column = cmd.name, what = "SET NOT NULL", locks = true })
  end,
  AT_AddColumn = function(out, s, n, cmd)
    local col = cmd.def.ColumnDef
    fact(out, "add_column", s, n, { column = col.colname, what = "ADD COLUMN", locks = true,
      type_node = col.typeName })
    if M.requires_value(col) then
      fact(out, "add_required", s, n, { column = col.colname, what = "ADD COLUMN NOT NULL without DEFAULT" })
    end
    local why = M.rewriting_column(col)
    if why then
      fact(out, "rewrite", s, n, { column = col.colname, what = "ADD COLUMN with a volatile default",
        why = why, locks = true })
    end
  end,
  AT_DropNotNull = function(out, s, n, cmd)
    fact(out, "drop_not_null", s, n, { column = cmd.name, what = "DROP NOT NULL", locks = true })
  end,
  AT_AddConstraint = function(out, s, n, cmd)
    add_constraint(out, s, n, cmd.def.Constraint or {})
  end,
  AT_ValidateConstraint = function(out, s, n, cmd)
    fact(out, "validate", s, n, { constraint = cmd.name })
  end,
  AT_SetLogged = function(out, s, n)
    fact(out, "rewrite", s, n, { what = "SET LOGGED", locks = true })
  end,
  AT_SetUnLogged = function(out, s, n)
    fact(out, "rewrite", s, n, { what = "SET UNLOGGED", locks = true })
  end,
}

local drop_objects = {
  OBJECT_TABLE = function(out, obj)
    local schema, name = tree.names(obj)
    fact(out, "drop_table", schema, name, { what = "DROP TABLE", locks = true })
  end,
  OBJECT_SCHEMA = function(out, obj)
    fact(out, "drop_schema", tree.str(obj), nil, { what = "DROP SCHEMA" })
  end,
  OBJECT_TYPE = function(out, obj, node)
    local schema, name = tree.names(obj.TypeName and obj.TypeName.names or obj)
    fact(out, "drop_type", schema, nil, { type_name = name, what = "DROP TYPE",
      cascade = node.behavior == "DROP_CASCADE" })
  end,
}
drop_objects.OBJECT_DOMAIN = drop_objects.OBJECT_TYPE
drop_objects.OBJECT_INDEX = function(out, obj, node)
  local schema, name = tree.names(obj)
  if node.concurrent then return end
  -- the table is known only for an index created in this run (lintstate.mark)
  fact(out, "index_lock", schema, nil, { index = name, what = "DROP INDEX without CONCURRENTLY", locks = true,
    drop_index = true })
end

-- The names of the columns an UPDATE sets (SET a = ..., (b, c) = ...).
local function set_columns(targets)
  local out = {}
  for _, t in ipairs(targets or {}) do
    local name = t.ResTarget and t.ResTarget.name
    if name then out[#out + 1] = name end
  end
  return out
end

local by_kind = {
  DropStmt = function(out, node)
    local each = drop_objects[node.removeType]
    for _, obj in ipairs(each and node.objects or {}) do each(out, obj, node) end
  end,
  TruncateStmt = function(out, node) on_relations(out, node.relations, "truncate", "TRUNCATE", true) end,
  DeleteStmt = function(out, node)
    if not node.whereClause then on_relations(out, { node.relation }, "delete_all", "DELETE without WHERE") end
  end,
  UpdateStmt = function(out, node)
    local schema, name = tree.relation(node.relation)
    local columns = set_columns(node.targetList)
    if not node.whereClause then
      fact(out, "update_all", schema, name, { what = "UPDATE without WHERE", columns = columns })
    end
    fact(out, "fill", schema, name, { columns = columns })
  end,
  InsertStmt = function(out, node)
    fact(out, "insert", tree.relation(node.relation))
  end,
  CopyStmt = function(out, node)
    if node.is_from and node.relation then fact(out, "insert", tree.relation(node.relation)) end
  end,
  DropdbStmt = function(out, node)
    fact(out, "drop_database", nil, nil, { database = node.dbname, what = "DROP DATABASE" })
  end,
  ReindexStmt = function(out, node)
    if tree.has_def(node.params, "concurrently") then return end
    local schema, name = tree.relation(node.relation)
    if node.kind == "REINDEX_OBJECT_TABLE" then
      fact(out, "lock", schema, name, { what = "REINDEX TABLE without CONCURRENTLY", locks = true,
        builds_index = "REINDEX TABLE" })
    elseif node.kind == "REINDEX_OBJECT_INDEX" then
      fact(out, "index_lock", schema, nil, { index = name, what = "REINDEX INDEX without CONCURRENTLY",
        locks = true, builds_index = "REINDEX INDEX" })
    end
  end,
  AlterDomainStmt = function(out, node)
    local k = node.def and node.def.Constraint
    if node.subtype == "C" and k and not k.skip_validation then
      local schema, name = tree.names(node.typeName)
      fact(out, "domain_constraint", schema, nil, { type_name = name, constraint = k.conname,
        what = "ALTER DOMAIN ADD CONSTRAINT" })
    end
  end,
  AlterTableStmt = function(out, node, known_type)
    if node.objtype ~= "OBJECT_TABLE" then return end
    local schema, name = tree.relation(node.relation)
    for _, item in ipairs(node.cmds or {}) do
      local cmd = item.AlterTableCmd
      local handle = alter_cmd[cmd.subtype]
      if handle then
        handle(out, schema, name, cmd, known_type)
      else
        fact(out, "brief_lock", schema, name, { what = "ALTER TABLE", locks = true })
      end
    end
  end,
  RenameStmt = function(out, node)
    local schema, name = tree.relation(node.relation)
    if node.renameType == "OBJECT_TYPE" or node.renameType == "OBJECT_DOMAIN" then
      local ts, tn = tree.names(node.object)
      fact(out, "rename_type", ts, nil, { type_name = tn, new_name = node.newname, what = "RENAME TO" })
    elseif node.renameType == "OBJECT_TABLE" then
      fact(out, "rename_table", schema, name, { new_name = node.newname, what = "RENAME TO", locks = true })
    elseif node.renameType == "OBJECT_COLUMN" and node.relationType == "OBJECT_TABLE" then
      fact(out, "rename_column", schema, name, { column = node.subname, new_name = node.newname,
        what = "RENAME COLUMN", locks = true })
    end
  end,
  IndexStmt = function(out, node)
    local schema, name = tree.relation(node.relation)
    if node.idxname then fact(out, "create_index", schema, name, { index = node.idxname }) end
    if not node.concurrent then
      on_relations(out, { node.relation }, "lock", "CREATE INDEX without CONCURRENTLY", true)
      out[#out].builds_index = "CREATE INDEX"
    end
  end,
  VacuumStmt = function(out, node)
    if node.is_vacuumcmd and tree.has_def(node.options, "full") then
      on_relations(out, node.rels, "rewrite", "VACUUM FULL", true)
    end
  end,
  ClusterStmt = function(out, node)
    if node.relation then on_relations(out, { node.relation }, "rewrite", "CLUSTER", true) end
  end,
  LockStmt = function(out, node)
    if (node.mode or 8) >= 5 then on_relations(out, node.relations, "lock", "LOCK TABLE", true) end
  end,
}

-- The facts of one statement (kind, node from the tree). known_type(schema,
-- table, column) gives a column's current type when the caller knows it.
function M.of(kind, node, known_type)
  local out = {}
  known_type = known_type or function() return nil end
  local handle = by_kind[kind]
  if handle then handle(out, node, known_type) end
  -- data-modifying CTEs: WITH gone AS (DELETE FROM t RETURNING *) SELECT ...
  local with = type(node) == "table" and node.withClause and node.withClause.ctes
  for _, cte in ipairs(with or {}) do
    local query = cte.CommonTableExpr and cte.CommonTableExpr.ctequery
    local k, body = tree.node(query)
    if k == "DeleteStmt" or k == "UpdateStmt" then by_kind[k](out, body, known_type) end
  end
  return out
end

return M
