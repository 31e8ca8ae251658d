-- stallmig.locks — the table lock a statement takes, and what that lock
-- blocks, worked out from the parse tree (PostgreSQL's table-level lock
-- modes, "Explicit Locking" in its manual). The reports show it per
-- statement; docs/reports.md has the table.
--
--   local list = locks.of(kind, node)          -- {{mode, level, schema, table, what}}
--   local b = locks.blocks("SHARE")            -- {modes = {...}, statements = "..."}
local tree = require("stallmig.sqltree")

local locks = {}

-- The eight modes, weakest first; level = the index. `taken_by` says which
-- statements take it, `conflicts` the levels it cannot be held beside.
locks.MODES = {
  { name = "ACCESS SHARE", taken_by = "SELECT", conflicts = { 8 } },
  { name = "ROW SHARE", taken_by = "SELECT ... FOR UPDATE / FOR SHARE", conflicts = { 7, 8 } },
  { name = "ROW EXCLUSIVE", taken_by = "INSERT, UPDATE, DELETE, MERGE, COPY FROM", conflicts = { 5, 6, 7, 8 } },
  { name = "SHARE UPDATE EXCLUSIVE", taken_by = "VACUUM, ANALYZE, CREATE INDEX CONCURRENTLY, "
    .. "ALTER TABLE VALIDATE CONSTRAINT, COMMENT ON", conflicts = { 4, 5, 6, 7, 8 } },
  { name = "SHARE", taken_by = "CREATE INDEX (without CONCURRENTLY)", conflicts = { 3, 4, 6, 7, 8 } },
  { name = "SHARE ROW EXCLUSIVE", taken_by = "CREATE TRIGGER, ALTER TABLE ADD FOREIGN KEY",
    conflicts = { 3, 4, 5, 6, 7, 8 } },
  { name = "EXCLUSIVE", taken_by = "REFRESH MATERIALIZED VIEW CONCURRENTLY", conflicts = { 2, 3, 4, 5, 6, 7, 8 } },
  { name = "ACCESS EXCLUSIVE", taken_by = "DROP TABLE, TRUNCATE, most ALTER TABLE forms, VACUUM FULL, "
    .. "CLUSTER, REFRESH MATERIALIZED VIEW, LOCK TABLE", conflicts = { 1, 2, 3, 4, 5, 6, 7, 8 } },
}

local LEVEL = {}
for i, m in ipairs(locks.MODES) do LEVEL[m.name] = i end

-- ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (every other
-- one takes it: the manual's default for ALTER TABLE).
local ALTER_LEVEL = {
  AT_ValidateConstraint = 4, AT_SetStatistics = 4, AT_ClusterOn = 4, AT_DropCluster = 4,
  AT_EnableTrig = 6, AT_DisableTrig = 6, AT_EnableTrigAll = 6, AT_DisableTrigAll = 6,
  AT_EnableTrigUser = 6, AT_DisableTrigUser = 6, AT_EnableAlwaysTrig = 6, AT_EnableReplicaTrig = 6,
  AT_AttachPartition = 4,
}

local function add(out, level, schema, table, what)
  if table then out[#out + 1] = { mode = locks.MODES[level].name, level = level, schema = schema,
    table = table, what = what } end
end

local function foreign_keys(out, constraints, what)
  for _, c in ipairs(constraints or {}) do
    local k = c.Constraint
    if k and k.contype == "CONSTR_FOREIGN" then
      local s, t = tree.relation(k.pktable)
      add(out, 6, s, t, what .. " (the referenced table)")
    end
  end
end

local function alter_table(out, node)
  if node.objtype ~= "OBJECT_TABLE" and node.objtype ~= "OBJECT_MATVIEW" then return end
  local s, t = tree.relation(node.relation)
  local level = 0
  for _, item in ipairs(node.cmds or {}) do
    local cmd = item.AlterTableCmd
    local k = cmd.subtype == "AT_AddConstraint" and cmd.def and cmd.def.Constraint
    local this = ALTER_LEVEL[cmd.subtype] or 8
    if k and k.contype == "CONSTR_FOREIGN" then
      this = 6
      foreign_keys(out, { cmd.def }, "ALTER TABLE ADD FOREIGN KEY")
    end
    level = math.max(level, this)   -- one statement holds the strongest lock of its subcommands
  end
  if level > 0 then add(out, level, s, t, "ALTER TABLE") end
end

local function relations(out, list, level, what)
  for _, rv in ipairs(list or {}) do
    local s, t = tree.relation(rv.VacuumRelation and rv.VacuumRelation.relation or rv)
    add(out, level, s, t, what)
  end
end

local DROP_WHAT = { OBJECT_TABLE = "DROP TABLE", OBJECT_VIEW = "DROP VIEW", OBJECT_MATVIEW =
  "DROP MATERIALIZED VIEW", OBJECT_INDEX = "DROP INDEX", OBJECT_SEQUENCE = "DROP SEQUENCE" }

local by_kind = {
  AlterTableStmt = alter_table,
  CreateStmt = function(out, node)
    for _, elt in ipairs(node.tableElts or {}) do
      if elt.ColumnDef then foreign_keys(out, elt.ColumnDef.constraints, "CREATE TABLE ... REFERENCES")
      else foreign_keys(out, { elt }, "CREATE TABLE ... FOREIGN KEY") end
    end
  end,
  DropStmt = function(out, node)
    local what = DROP_WHAT[node.removeType]
    if node.removeType == "OBJECT_TRIGGER" then
      for _, obj in ipairs(node.objects or {}) do
        local items = obj.List and obj.List.items or {}
        local parts = {}
        for _, i in ipairs(items) do parts[#parts + 1] = tree.str(i) end
        add(out, 8, parts[#parts - 2], parts[#parts - 1], "DROP TRIGGER")
      end
    elseif what then
      local level = (node.removeType == "OBJECT_INDEX" and node.concurrent) and 4 or 8
      for _, obj in ipairs(node.objects or {}) do
        local s, t = tree.names(obj)
        add(out, level, s, t, what .. (level == 4 and " CONCURRENTLY" or ""))
      end
    end
  end,
  TruncateStmt = function(out, node) relations(out, node.relations, 8, "TRUNCATE") end,
  RenameStmt = function(out, node)
    if node.relation then relations(out, { node.relation }, 8, "ALTER TABLE RENAME") end
  end,
  IndexStmt = function(out, node)
    relations(out, { node.relation }, node.concurrent and 4 or 5,
      node.concurrent and "CREATE INDEX CONCURRENTLY" or "CREATE INDEX")
  end,
  InsertStmt = function(out, node) relations(out, { node.relation }, 3, "INSERT") end,
  UpdateStmt = function(out, node) relations(out, { node.relation }, 3, "UPDATE") end,
  DeleteStmt = function(out, node) relations(out, { node.relation }, 3, "DELETE") end,
  MergeStmt = function(out, node) relations(out, { node.relation }, 3, "MERGE") end,
  CopyStmt = function(out, node)
    if node.is_from then relations(out, { node.relation }, 3, "COPY FROM") end
  end,
  CreateTrigStmt = function(out, node) relations(out, { node.relation }, 6, "CREATE TRIGGER") end,
  LockStmt = function(out, node)    -- mode: lockdefs.h's 1..8, ACCESS SHARE .. ACCESS EXCLUSIVE
    local mode = math.tointeger(node.mode) or 8
    relations(out, node.relations, (mode >= 1 and mode <= 8) and mode or 8, "LOCK TABLE")
  end,
  RefreshMatViewStmt = function(out, node)
    relations(out, { node.relation }, node.concurrent and 7 or 8,
      "REFRESH MATERIALIZED VIEW" .. (node.concurrent and " CONCURRENTLY" or ""))
  end,
  VacuumStmt = function(out, node)
    local full = node.is_vacuumcmd and tree.has_def(node.options, "full")
    relations(out, node.rels, full and 8 or 4, node.is_vacuumcmd and (full and "VACUUM FULL" or "VACUUM") or "ANALYZE")
  end,
  ClusterStmt = function(out, node) relations(out, { node.relation }, 8, "CLUSTER") end,
  ReindexStmt = function(out, node)
    if node.relation then relations(out, { node.relation }, tree.has_def(node.params, "concurrently") and 4 or 5,
      "REINDEX") end
  end,
}

-- locks.of(kind, node) -> {{mode, level, schema, table, what}}: the table
-- locks one statement (kind, node from sql.parse's tree) takes, held until
-- its transaction ends; {} for a statement that locks no existing table
-- (CREATE TABLE, CREATE FUNCTION, ...) or one this table does not know.
function locks.of(kind, node)
  local out = {}
  local handle = type(node) == "table" and by_kind[kind]
  if handle then handle(out, node) end
  return out
end

-- In a sentence: what an application notices while the lock is held.
local function summary(conflicts, names)
  if conflicts[1] then return "every query on the table waits, reads included" end
  if conflicts[3] then
    return "writes (INSERT, UPDATE, DELETE) wait" .. (conflicts[2] and ", and SELECT ... FOR UPDATE" or "")
      .. "; plain reads go on"
  end
  if conflicts[4] then return "reads and writes go on; other schema changes, index builds and VACUUM wait" end
  return "reads and writes go on; only statements taking " .. table.concat(names, ", ") .. " wait"
end

-- locks.blocks(mode) -> {modes = {names}, statements = text, summary =
-- text}: the lock modes `mode` conflicts with, the statements that take
-- them (which wait for it, or it for them), and what an application
-- notices. Raises for a name that is not a lock mode.
function locks.blocks(mode)
  local m = locks.MODES[LEVEL[mode] or 0]
  if not m then error("locks.blocks: " .. tostring(mode) .. " is not a PostgreSQL lock mode", 2) end
  local names, what, set = {}, {}, {}
  for _, level in ipairs(m.conflicts) do
    names[#names + 1] = locks.MODES[level].name
    what[#what + 1] = locks.MODES[level].taken_by
    set[level] = true
  end
  return { modes = names, statements = table.concat(what, "; "), summary = summary(set, names) }
end

return locks
