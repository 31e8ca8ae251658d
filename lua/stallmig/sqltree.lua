-- stallmig.sqltree — small readers for libpg_query's parse tree (sql.parse),
-- so that lint rules read names, types and options instead of walking JSON.
local M = {}

-- The one key of a node such as {RangeVar = {...}}: kind, body.
function M.node(v)
  if type(v) ~= "table" then return nil end
  local kind, body = next(v)
  return kind, body
end

-- The value of a String node (or a bare string).
function M.str(v)
  if type(v) == "string" then return v end
  local s = type(v) == "table" and v.String
  return s and s.sval
end

-- "name" or "schema.name"; quotes what is not a plain lower-case identifier.
local function ident(s)
  if s:match("^[a-z_][a-z0-9_$]*$") then return s end
  return '"' .. s:gsub('"', '""') .. '"'
end

function M.qualified(schema, name)
  if schema then return ident(schema) .. "." .. ident(name) end
  return ident(name)
end

-- A RangeVar (or {RangeVar = ...}) -> schema (nil when unqualified), table.
function M.relation(rv)
  if rv and rv.RangeVar then rv = rv.RangeVar end
  if not rv then return nil end
  return rv.schemaname, rv.relname
end

-- A list of String nodes (DropStmt's {List = {items}} or a TypeName's names)
-- -> schema (nil when unqualified), name.
function M.names(v)
  local items = v and v.List and v.List.items or v
  if type(items) ~= "table" then return nil, M.str(v) end
  local parts = {}
  for _, item in ipairs(items) do parts[#parts + 1] = M.str(item) end
  if #parts == 1 then return nil, parts[1] end
  return parts[#parts - 1], parts[#parts]
end

-- Whether a list of DefElem nodes holds one named name.
function M.has_def(list, name)
  for _, item in ipairs(list or {}) do
    if item.DefElem and item.DefElem.defname == name then return true end
  end
  return false
end

-- Calls fn(kind, body) on every node under v, depth first.
function M.walk(v, fn)
  if type(v) ~= "table" then return end
  for key, child in pairs(v) do
    if type(key) == "string" and key:match("^%u") and type(child) == "table" then fn(key, child) end
    M.walk(child, fn)
  end
end

-- Names of the functions called anywhere under v (the last part of funcname).
function M.calls(v)
  local found = {}
  M.walk(v, function(kind, body)
    if kind == "FuncCall" then
      local _, name = M.names(body.funcname)
      found[#found + 1] = name
    end
  end)
  return found
end

-- ---- types ---------------------------------------------------------------

-- Internal names (pg_catalog) -> how people write them.
local sql_names = {
  varchar = "varchar", bpchar = "char", int2 = "smallint", int4 = "integer", int8 = "bigint",
  float4 = "real", float8 = "double precision", bool = "boolean", numeric = "numeric",
  timestamp = "timestamp", timestamptz = "timestamptz", time = "time", timetz = "timetz",
  interval = "interval", bit = "bit", varbit = "varbit",
}

-- format_type() spellings (catalog snapshots) -> internal names.
local catalog_names = {
  ["character varying"] = "varchar", character = "bpchar", smallint = "int2", integer = "int4",
  bigint = "int8", real = "float4", ["double precision"] = "float8", boolean = "bool",
  ["timestamp without time zone"] = "timestamp", ["timestamp with time zone"] = "timestamptz",
  ["time without time zone"] = "time", ["time with time zone"] = "timetz", ["bit varying"] = "varbit",
  int = "int4", char = "bpchar", ["char varying"] = "varchar",
}

local function integer_mods(list)
  local mods = {}
  for _, m in ipairs(list or {}) do
    local c = m.A_Const
    if not (c and c.ival) then return {} end
    mods[#mods + 1] = c.ival.ival or 0
  end
  return mods
end

-- A TypeName node -> {base, mods = {n...}, array, sql}: base is the internal
-- name for built-in types ("varchar", "int8"), the written name otherwise.
function M.type_of(tn)
  if tn and tn.TypeName then tn = tn.TypeName end
  local schema, name = M.names(tn.names)
  local t = { base = name, mods = integer_mods(tn.typmods), array = tn.arrayBounds ~= nil }
  if schema ~= "pg_catalog" then t.base = catalog_names[name] or name end
  local shown = (schema ~= "pg_catalog" and not catalog_names[name] and not sql_names[name])
    and M.qualified(schema, name) or (sql_names[t.base] or t.base)
  if #t.mods > 0 then shown = shown .. "(" .. table.concat(t.mods, ",") .. ")" end
  t.sql = shown .. (t.array and "[]" or "")
  return t
end

-- A format_type() string ("character varying(20)", "numeric(10,2)[]") -> the same shape.
function M.parse_type(text)
  local s = text:lower()
  local array = s:sub(-2) == "[]"
  if array then s = s:sub(1, -3) end
  local name, args, rest = s:match("^([^(]-)%s*%(([%d,%s]*)%)%s*(.*)$")
  if name then
    name = (name .. (rest ~= "" and " " .. rest or "")):gsub("^%s+", "")
  else
    name, args = s, ""
  end
  local mods = {}
  for n in args:gmatch("%d+") do mods[#mods + 1] = tonumber(n) end
  local base = catalog_names[name] or name
  local shown = (sql_names[base] or base) .. (#mods > 0 and "(" .. table.concat(mods, ",") .. ")" or "")
  return { base = base, mods = mods, array = array, sql = shown .. (array and "[]" or "") }
end

return M
