-- stallmig.compat — does the schema stay usable by the previous
-- application version while the pending migrations deploy
-- (docs/zero-downtime.md)? What deploy runs (a plain file; the expand and
-- backfill sections of a phased one) must not remove or rename anything the
-- old version reads or writes, nor make its writes fail; that belongs in a
-- -- stallmig:contract section, run once the new version is rolled out.
local sql = require("stallmig.sql")
local sqltree = require("stallmig.sqltree")
local lintfacts = require("stallmig.lintfacts")
local phases = require("stallmig.phases")
local json = require("stallmig.json")

local compat = {}

-- What each action does to the old version, when deploy runs it.
local BREAKS = {
  drop_column = "drops column %s, which the running version may still read or write",
  drop_table = "drops table %s, which the running version may still use",
  rename_column = "renames column %s, so the running version's queries of it fail",
  rename_table = "renames table %s, so the running version's queries of it fail",
  alter_type = "changes the type of column %s under the running version",
  set_not_null = "sets %s NOT NULL, so the running version's writes that leave it out fail",
}

-- What adds to a table without taking anything away.
local EXPANDS = { add_column = true, add_check = true, validate = true }

local function named(f)
  local t = (f.schema and (f.schema .. ".") or "") .. tostring(f.table)
  return f.column and (t .. "." .. f.column) or t
end

-- ADD COLUMN ... NOT NULL without a DEFAULT: the old version's INSERTs fail.
local function not_null_without_default(kind, node)
  if kind ~= "AlterTableStmt" then return {} end
  local out = {}
  for _, c in ipairs(node.cmds or {}) do
    local cmd = c.AlterTableCmd
    local col = cmd and cmd.subtype == "AT_AddColumn" and cmd.def and cmd.def.ColumnDef
    if col then
      local not_null, default = false, false
      for _, k in ipairs(col.constraints or {}) do
        local t = k.Constraint and k.Constraint.contype
        not_null = not_null or t == "CONSTR_NOTNULL" or t == "CONSTR_PRIMARY"
        default = default or t == "CONSTR_DEFAULT" or t == "CONSTR_IDENTITY" or t == "CONSTR_GENERATED"
      end
      if not_null and not default then out[#out + 1] = col.colname end
    end
  end
  return out
end

-- The statements deploy runs of m (m.content read): the expand and
-- backfill sections of a phased file, else the whole file.
local function deploy_statements(m)
  local sections = phases.split(m.content, m.file)
  return sql.script(sections and sections.deploy or m.content).statements, sections ~= nil
end

-- compat.check(pending) -> {compatible, breaking = {sentence}, same_release
-- = {sentence}}: pending is a list of migrations with m.content read (in
-- order). `breaking`: what deploy would take from the running version;
-- `same_release`: tables that deploy both expands and contracts (a new
-- column added and an old one dropped together: the change that wants
-- phases).
function compat.check(pending)
  local breaking, same_release = json.array(), json.array()
  local per_table = {}                 -- table -> {expands = {what}, contracts = {what}, names}
  for _, m in ipairs(pending) do
    local statements, phased = deploy_statements(m)
    for _, s in ipairs(statements) do
      local ok, tree = pcall(sql.parse, s.text)
      local kind, node
      if ok then kind, node = sqltree.node(tree.stmts[1].stmt) end
      local facts = kind and lintfacts.of(kind, node) or {}
      for _, col in ipairs(kind and not_null_without_default(kind, node) or {}) do
        facts[#facts + 1] = { action = "add_not_null", schema = nil, table = node.relation and node.relation.relname, column = col }
      end
      for _, f in ipairs(facts) do
        local where = string.format("%s (%s:%d)", m.name, m.file or m.name, s.line)
        local why = BREAKS[f.action]
        if f.action == "add_not_null" then
          why = "adds %s NOT NULL without a default, so the running version's INSERTs fail"
        end
        local key = f.table and ((f.schema and (f.schema .. ".") or "") .. f.table)
        if why then
          breaking[#breaking + 1] = string.format("%s %s%s", where, string.format(why, named(f)),
            phased and " (move it under -- stallmig:contract)" or " (make it a phased migration: docs/zero-downtime.md)")
        end
        if key and (why or EXPANDS[f.action]) then
          local t = per_table[key] or { expands = {}, contracts = {} }
          per_table[key] = t
          local list = why and t.contracts or t.expands
          list[#list + 1] = (f.what or f.action) .. (f.column and (" " .. f.column) or "") .. " in " .. m.name
        end
      end
    end
  end
  local tables = {}
  for key in pairs(per_table) do tables[#tables + 1] = key end
  table.sort(tables)
  for _, key in ipairs(tables) do
    local t = per_table[key]
    if #t.expands > 0 and #t.contracts > 0 then
      same_release[#same_release + 1] = string.format("%s is expanded (%s) and contracted (%s) in one "
        .. "release: the running version sees the contract before the new one can use the expand; put "
        .. "the contract under -- stallmig:contract", key, table.concat(t.expands, ", "), table.concat(t.contracts, ", "))
    end
  end
  return { compatible = #breaking == 0, breaking = breaking, same_release = same_release }
end

return compat
