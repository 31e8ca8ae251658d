-- stallmig.lintstate — what the lint knows across the pending migrations of
-- one run: tables, columns, schemas and types created in it (nothing to lose
-- there), followed through renames; tables emptied in it (DELETE without
-- WHERE, TRUNCATE) until rows go in again; columns added in it stop being
-- empty once an UPDATE fills them; which table an index created in it is on;
-- CHECK (col IS NOT NULL) constraints, and, per file, lock_timeout.
local tree = require("stallmig.sqltree")

local State = {}
State.__index = State

local M = {}

local function key(schema, table)
  return (schema or "public") .. "." .. table
end

function M.new(opts)
  opts = opts or {}
  return setmetatable({
    tables = {}, columns = {}, schemas = {}, types = {}, checks = {}, column_types = {},
    emptied = {}, renamed_types = {}, indexes = {},
    snapshot = opts.schema, env_lock_timeout = opts.lock_timeout, file = {},
  }, State)
end

function State:begin_file(m)
  self.file = { migration = m, lock_timeout = false }
end

function State:is_new_table(schema, table)
  return table ~= nil and self.tables[key(schema, table)] == true
end

function State:is_new_column(schema, table, column)
  return column ~= nil and self.columns[key(schema, table) .. "." .. column] == true
end

-- Whether a lock_timeout guards the statements from here on: SET lock_timeout
-- earlier in this file, or the environment's own (context option).
function State:lock_timeout_set()
  return self.file.lock_timeout or (self.env_lock_timeout ~= nil and self.env_lock_timeout ~= "0")
end

-- Whether a validated CHECK (column IS NOT NULL) exists on the table from this run.
function State:has_not_null_check(schema, table, column)
  for _, c in pairs(self.checks[key(schema, table)] or {}) do
    if c.column == column and c.valid then return true end
  end
  return false
end

-- A column's current type (sqltree type table), when known: set in this run,
-- or read from the target's snapshot (context option schema).
function State:column_type(schema, table, column)
  local k = key(schema, table) .. "." .. column
  local known = self.column_types[k]
  if known and known.names then -- a TypeName node as recorded: read it once, when asked
    known = tree.type_of(known)
    self.column_types[k] = known
  end
  if known then return known end
  local t = self.snapshot and self.snapshot.tables and self.snapshot.tables[key(schema, table)]
  local c = t and t.columns and t.columns[column]
  return c and c.type and tree.parse_type(c.type) or nil
end

-- Whether every column an UPDATE sets was added in this run and not filled yet.
local function fills_only_new(self, f)
  if #f.columns == 0 then return false end
  for _, c in ipairs(f.columns) do
    if not self:is_new_column(f.schema, f.table, c) then return false end
  end
  return true
end

-- Before the rules run: which facts are about things created in this run.
function State:mark(facts)
  for _, f in ipairs(facts) do
    if f.action == "drop_schema" then
      f.new_table = self.schemas[f.schema] == true
    elseif f.action == "drop_type" or f.action == "domain_constraint" then
      f.new_table = self.types[key(f.schema, f.type_name)] == true
      f.renamed = self.renamed_types[key(f.schema, f.type_name)] == true
    elseif f.action == "index_lock" then
      local on = self.indexes[key(f.schema, f.index)]
      if on then f.schema, f.table = on[1], on[2] end
      f.new_table = on ~= nil and self:is_new_table(on[1], on[2])
    else
      f.new_table = self:is_new_table(f.schema, f.table)
      f.new_column = self:is_new_column(f.schema, f.table, f.column)
      f.emptied = self.emptied[key(f.schema, f.table or "")] == true
      if f.action == "update_all" then f.fills_new = fills_only_new(self, f) end
    end
    -- a foreign key from a new (empty) table validates at once: the
    -- referenced table's lock is brief
    if f.referenced_by and self:is_new_table(f.referenced_by[1], f.referenced_by[2]) then
      f.action, f.what = "brief_lock", "ADD FOREIGN KEY (referenced table)"
    end
  end
end

local function set_lock_timeout(self, node)
  if node.name ~= "lock_timeout" then return end
  -- SET LOCAL outside a transaction block does nothing
  if node.is_local and self.file.migration.mode == "non-transactional" then return end
  local value = node.args and node.args[1] and node.args[1].A_Const
  local v = value and (value.ival and tostring(value.ival.ival or 0) or value.sval and value.sval.sval)
  self.file.lock_timeout = node.kind == "VAR_SET_VALUE" and v ~= nil and not v:match("^0%a*$")
end

local function created_columns(self, k, elts)
  for _, e in ipairs(elts or {}) do
    local col = e.ColumnDef
    -- the node, read by column_type only if an ALTER COLUMN TYPE asks: most never do
    if col and col.typeName then self.column_types[k .. "." .. col.colname] = col.typeName end
  end
end

local record_kind = {
  CreateStmt = function(self, node)
    local k = key(tree.relation(node.relation))
    self.tables[k] = true
    created_columns(self, k, node.tableElts)
  end,
  CreateTableAsStmt = function(self, node)
    self.tables[key(tree.relation(node.into and node.into.rel))] = true
  end,
  CreateSchemaStmt = function(self, node) self.schemas[node.schemaname or ""] = true end,
  CreateEnumStmt = function(self, node) self.types[key(tree.names(node.typeName))] = true end,
  CompositeTypeStmt = function(self, node) self.types[key(tree.relation(node.typevar))] = true end,
  CreateDomainStmt = function(self, node) self.types[key(tree.names(node.domainname))] = true end,
  VariableSetStmt = set_lock_timeout,
}

local record_fact = {
  add_column = function(self, f, k)
    self.columns[k .. "." .. f.column] = true
    self.column_types[k .. "." .. f.column] = f.type_node
  end,
  -- an UPDATE puts values in the new columns it sets: from here on they hold data
  fill = function(self, f, k)
    for _, c in ipairs(f.columns) do self.columns[k .. "." .. c] = nil end
  end,
  truncate = function(self, _, k) self.emptied[k] = true end,
  delete_all = function(self, _, k) self.emptied[k] = true end,
  insert = function(self, _, k) self.emptied[k] = nil end,
  create_index = function(self, f) -- an index lives in its table's schema
    self.indexes[key(f.schema, f.index)] = { f.schema, f.table }
  end,
  alter_type = function(self, f, k) self.column_types[k .. "." .. f.column] = f.type end,
  add_check = function(self, f, k)
    self.checks[k] = self.checks[k] or {}
    table.insert(self.checks[k], { name = f.constraint, column = f.column, valid = f.valid })
  end,
  validate = function(self, f, k)
    for _, c in ipairs(self.checks[k] or {}) do
      if c.name == f.constraint then c.valid = true end
    end
  end,
  rename_table = function(self, f, k)
    if self.tables[k] then self.tables[key(f.schema, f.new_name)] = true end
  end,
  rename_column = function(self, f, k)
    if f.new_table or f.new_column then self.columns[k .. "." .. f.new_name] = true end
  end,
  drop_table = function(self, _, k) self.tables[k] = nil end,
}

-- ALTER TYPE x RENAME TO y: a type created in this run stays new under its
-- new name; an existing one is remembered as renamed (Prisma's enum swap:
-- RENAME TO "x_old", CREATE TYPE x, convert the columns, DROP TYPE "x_old").
local function record_type_rename(self, f)
  local from, to = key(f.schema, f.type_name), key(f.schema, f.new_name)
  if self.types[from] then
    self.types[from], self.types[to] = nil, true
  else
    self.renamed_types[to] = true
  end
end

-- After the rules ran: what this statement created or changed.
function State:record(s)
  local by_kind = record_kind[s.kind]
  if by_kind then by_kind(self, s.node) end
  for _, f in ipairs(s.facts) do
    local by_fact = record_fact[f.action]
    if by_fact and f.table then by_fact(self, f, key(f.schema, f.table)) end
    if f.action == "rename_type" then record_type_rename(self, f) end
  end
end

return M
