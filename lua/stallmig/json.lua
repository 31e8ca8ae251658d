-- stallmig.json — encode Lua values as JSON (for --json output).
-- Tables with keys 1..n are arrays; json.array() marks an empty one.
local json = {}

-- The marker of an array, kept in the registry under the name the host uses
-- ("stallmig.json.array"), so that a document the change gate builds in its
-- own Lua state keeps its empty arrays when the host copies it over.
local registry = debug.getregistry()
local array_mt = registry["stallmig.json.array"] or { __name = "stallmig.json.array" }
registry["stallmig.json.array"] = array_mt

function json.array(t)
  return setmetatable(t or {}, array_mt)
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function is_array(t)
  if getmetatable(t) == array_mt then return true end
  local n = #t
  if n == 0 then return false end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local encode

local function encode_table(t, out, depth)
  if depth > 64 then error("json: nesting deeper than 64 levels", 0) end
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode(t[i], out, depth + 1)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = encode_string(k) .. ":"
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    encode(v, out, depth + 1)
  end
  out[#out + 1] = "}"
end

encode = function(v, out, depth)
  local kind = type(v)
  if kind == "nil" then out[#out + 1] = "null"
  elseif kind == "boolean" then out[#out + 1] = tostring(v)
  elseif kind == "number" then
    if v ~= v or v == math.huge or v == -math.huge then out[#out + 1] = "null"
    elseif math.type(v) == "integer" then out[#out + 1] = tostring(v)
    else out[#out + 1] = string.format("%.14g", v) end
  elseif kind == "string" then out[#out + 1] = encode_string(v)
  elseif kind == "table" then encode_table(v, out, depth)
  else error("json: cannot encode a " .. kind, 0) end
end

function json.encode(value)
  local out = {}
  encode(value, out, 0)
  return table.concat(out)
end

return json
