-- stallmig.typechange — what ALTER COLUMN ... TYPE does to the values already
-- there: which changes can lose data (and how), which rewrite the table.
-- Types are sqltree.type_of / sqltree.parse_type tables ({base, mods, array, sql}).
local M = {}

local textual = { text = true, varchar = true, bpchar = true, citext = true, name = true }
local integers = { int2 = 1, int4 = 2, int8 = 3 }
local floats = { float4 = 1, float8 = 2 }
local times = { timestamp = true, timestamptz = true }

local function length_of(t) return t.mods[1] end -- nil: unbounded

-- Why a change from old to new can lose or refuse values, or nil.
function M.loss(old, new)
  if old.array ~= new.array then return "between an array and a scalar, values are converted" end
  local a, b = old.base, new.base
  if textual[a] and (b == "varchar" or b == "bpchar") then
    local n, m = length_of(old), length_of(new) or (b == "bpchar" and 1 or nil)
    if m and (n == nil or n > m or a == "text" or a == "citext") then
      return "values longer than " .. m .. " characters are refused or cut"
    end
    return nil
  end
  if textual[a] and not textual[b] then
    return "text values that are not valid " .. new.sql .. " are refused"
  end
  if integers[a] and integers[b] and integers[b] < integers[a] then
    return "values outside the range of " .. new.sql .. " are refused"
  end
  if (a == "numeric" or floats[a]) and integers[b] then
    return "fractional parts are rounded away"
  end
  if floats[a] and floats[b] and floats[b] < floats[a] then return "precision is lost" end
  if a == "numeric" and b == "numeric" and #new.mods > 0 then
    local p, s = old.mods[1], old.mods[2] or 0
    local p2, s2 = new.mods[1], new.mods[2] or 0
    if p == nil then return "unbounded numeric values are rounded to " .. new.sql end
    if s2 < s then return "digits after the point are rounded from " .. s .. " to " .. s2 end
    if p2 - s2 < p - s then return "values with more than " .. (p2 - s2) .. " integer digits are refused" end
    return nil
  end
  if (a == "numeric" or integers[a]) and floats[b] then return "exact values become approximate" end
  if times[a] and b == "date" then return "the time of day is lost" end
  if (times[a] or a == "time") and b == a and new.mods[1] and (old.mods[1] or 6) > new.mods[1] then
    return "fractions of a second are rounded to " .. new.mods[1] .. " digits"
  end
  return nil
end

-- Why a change to new can lose data when the old type is not known, or nil:
-- only types that bound what they hold.
function M.may_lose(new)
  local b = new.base
  if (b == "varchar" or b == "bpchar") and new.mods[1] then
    return "values longer than " .. new.mods[1] .. " characters would be refused or cut"
  end
  if b == "numeric" and new.mods[1] then return "values that do not fit " .. new.sql .. " would be rounded or refused" end
  if b == "int2" or b == "int4" then return "values outside the range of " .. new.sql .. " would be refused" end
  if b == "float4" then return "precision would be lost" end
  if b == "date" then return "a time of day would be lost" end
  return nil
end

-- Whether the change rewrites the table (binary-coercible changes do not).
-- old may be nil (unknown); using is the USING expression, if any.
function M.rewrites(old, new, using)
  if using then return true end
  if old == nil then
    return not (new.base == "text" or (new.base == "varchar" and not new.mods[1]))
  end
  if old.array ~= new.array then return true end
  local a, b = old.base, new.base
  if textual[a] and a ~= "bpchar" and (b == "text" or (b == "varchar" and not new.mods[1])) then return false end
  if (a == "varchar" or a == "text") and b == "varchar" then
    return a == "text" or (old.mods[1] or math.huge) > new.mods[1]
  end
  if a == b and a == "numeric" then
    if not new.mods[1] then return false end
    return not (old.mods[1] and (old.mods[2] or 0) == (new.mods[2] or 0) and new.mods[1] >= old.mods[1])
  end
  if a == b and (a == "varbit" or a == "timestamp" or a == "timestamptz") then
    return new.mods[1] ~= nil and (old.mods[1] or math.huge) > new.mods[1]
  end
  return a ~= b or #old.mods ~= #new.mods
end

return M
