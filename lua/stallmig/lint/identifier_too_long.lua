-- identifier-too-long: a name over 63 bytes, which PostgreSQL cuts to 63
-- without an error (so the object is not called what the file says, and two
-- long names can end up the same). squawk: identifier-too-long.
-- The parser already holds the cut name; a name of 61+ bytes in the tree
-- (a cut at a UTF-8 boundary may leave 61 or 62) is looked up in the text.
local MAX = 63
local LONG_RUN = string.rep("[%w_$\128-\255]", MAX - 2)

local function ident_char(c)
  return c ~= "" and (c:match("[%w_$]") ~= nil or c:byte() >= 128)
end

-- The identifier in text that starts with the cut name and goes on, or nil.
local function original(text, cut)
  local lower, want, from = text:lower(), cut:lower(), 1
  while true do
    local i, j = lower:find(want, from, true)
    if not i then return nil end
    if ident_char(text:sub(j + 1, j + 1)) and not ident_char(text:sub(i - 1, i - 1)) then
      local k = j
      while ident_char(text:sub(k + 1, k + 1)) do k = k + 1 end
      return text:sub(i, k)
    end
    from = j + 1
  end
end

local function long_strings(v, out)
  for _, child in pairs(v) do
    if type(child) == "table" then long_strings(child, out)
    elseif type(child) == "string" and #child >= MAX - 2 and #child <= MAX then out[child] = true end
  end
  return out
end

return {
  id = "identifier-too-long",
  severity = "warning",
  explanation = "PostgreSQL cuts identifiers to 63 bytes without an error: the object gets another name than the file says, and two long names can collide",
  suggestion = "choose a name of at most 63 bytes",
  check = function(s)
    if #s.text < MAX or not s.text:find(LONG_RUN) then return nil end -- nothing that long
    local out, seen = {}, {}
    for cut in pairs(long_strings(s.node, {})) do
      local name = original(s.text, cut)
      if name and not seen[name] then
        seen[name] = true
        out[#out + 1] = "identifier " .. name .. " is " .. #name .. " bytes; PostgreSQL cuts it to " .. cut
      end
    end
    table.sort(out)
    return out
  end,
}
