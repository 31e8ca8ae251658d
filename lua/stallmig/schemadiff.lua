-- stallmig.schemadiff — what differs between two schema snapshots, in words
-- a developer understands ("table public.users: column phone added (text)").
local schemadiff = {}

local KIND = { p = "primary key", u = "unique constraint", f = "foreign key", c = "check constraint",
  x = "exclusion constraint" }

local function sorted_keys(...)
  local seen, keys = {}, {}
  for _, t in ipairs({ ... }) do
    for k in pairs(t or {}) do
      if not seen[k] then seen[k] = true; keys[#keys + 1] = k end
    end
  end
  table.sort(keys)
  return keys
end

local function describe_column(c)
  local parts = { c.type }
  if c.not_null then parts[#parts + 1] = "NOT NULL" end
  if c.default then parts[#parts + 1] = "DEFAULT " .. c.default end
  if c.identity then parts[#parts + 1] = "identity" end
  if c.generated then parts[#parts + 1] = "generated" end
  return table.concat(parts, " ")
end

local function column_changes(name, want, have)
  local out = {}
  if want.type ~= have.type then out[#out + 1] = "type " .. want.type .. " -> " .. have.type end
  if want.not_null ~= have.not_null then
    out[#out + 1] = have.not_null and "now NOT NULL" or "now nullable"
  end
  if want.default ~= have.default then
    out[#out + 1] = "default " .. tostring(want.default or "none") .. " -> " .. tostring(have.default or "none")
  end
  if want.identity ~= have.identity then out[#out + 1] = "identity changed" end
  if want.generated ~= have.generated then out[#out + 1] = "generated changed" end
  if #out == 0 then return nil end
  return "column " .. name .. ": " .. table.concat(out, ", ")
end

local function table_changes(diffs, tname, want, have)
  for _, col in ipairs(sorted_keys(want.columns, have.columns)) do
    local w, h = want.columns[col], have.columns[col]
    if not w then diffs[#diffs + 1] = "table " .. tname .. ": column " .. col .. " added (" .. describe_column(h) .. ")"
    elseif not h then diffs[#diffs + 1] = "table " .. tname .. ": column " .. col .. " removed"
    else
      local change = column_changes(col, w, h)
      if change then diffs[#diffs + 1] = "table " .. tname .. ": " .. change end
    end
  end
  for _, con in ipairs(sorted_keys(want.constraints, have.constraints)) do
    local w, h = want.constraints[con], have.constraints[con]
    local what = KIND[(w or h).kind] or "constraint"
    if not w then diffs[#diffs + 1] = "table " .. tname .. ": " .. what .. " " .. con .. " added (" .. h.definition .. ")"
    elseif not h then diffs[#diffs + 1] = "table " .. tname .. ": " .. what .. " " .. con .. " removed"
    elseif w.definition ~= h.definition then
      diffs[#diffs + 1] = "table " .. tname .. ": " .. what .. " " .. con .. " changed: "
        .. w.definition .. " -> " .. h.definition
    end
  end
end

local function enum_changes(diffs, name, want, have)
  local wl, hl, inw, inh = {}, {}, {}, {}
  for v in (want.labels .. ","):gmatch("([^,]*),") do wl[#wl + 1] = v; inw[v] = true end
  for v in (have.labels .. ","):gmatch("([^,]*),") do hl[#hl + 1] = v; inh[v] = true end
  for _, v in ipairs(hl) do if not inw[v] then diffs[#diffs + 1] = "enum " .. name .. ": value " .. v .. " added" end end
  for _, v in ipairs(wl) do if not inh[v] then diffs[#diffs + 1] = "enum " .. name .. ": value " .. v .. " removed" end end
  if #diffs == 0 and want.labels ~= have.labels then
    diffs[#diffs + 1] = "enum " .. name .. ": values reordered"
  end
end

-- Objects compared by one field (definition, body hash, ...).
local SIMPLE = {
  { "indexes", "index", "definition" }, { "sequences", "sequence", "type" },
  { "views", "view", "definition" }, { "functions", "function", "body_hash" },
  { "triggers", "trigger", "definition" }, { "extensions", "extension", "version" },
}

-- The differences between `want` (what the migrations produce) and `have`
-- (what the database is), as sentences; empty when they agree.
function schemadiff.compare(want, have)
  local diffs = {}
  for _, s in ipairs(sorted_keys(want.schemas, have.schemas)) do
    if not want.schemas[s] then diffs[#diffs + 1] = "schema " .. s .. " added"
    elseif not have.schemas[s] then diffs[#diffs + 1] = "schema " .. s .. " removed" end
  end
  for _, t in ipairs(sorted_keys(want.tables, have.tables)) do
    if not want.tables[t] then diffs[#diffs + 1] = "table " .. t .. " added"
    elseif not have.tables[t] then diffs[#diffs + 1] = "table " .. t .. " removed"
    else table_changes(diffs, t, want.tables[t], have.tables[t]) end
  end
  for _, e in ipairs(sorted_keys(want.enums, have.enums)) do
    if not want.enums[e] then diffs[#diffs + 1] = "enum " .. e .. " added (" .. have.enums[e].labels .. ")"
    elseif not have.enums[e] then diffs[#diffs + 1] = "enum " .. e .. " removed"
    else
      local own = {}
      enum_changes(own, e, want.enums[e], have.enums[e])
      for _, d in ipairs(own) do diffs[#diffs + 1] = d end
    end
  end
  for _, spec in ipairs(SIMPLE) do
    local what, noun, field = spec[1], spec[2], spec[3]
    for _, k in ipairs(sorted_keys(want[what], have[what])) do
      local w, h = (want[what] or {})[k], (have[what] or {})[k]
      if not w then diffs[#diffs + 1] = noun .. " " .. k .. " added"
      elseif not h then diffs[#diffs + 1] = noun .. " " .. k .. " removed"
      elseif w[field] ~= h[field] then diffs[#diffs + 1] = noun .. " " .. k .. " changed" end
    end
  end
  return diffs
end

return schemadiff
