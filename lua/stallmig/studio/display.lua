-- stallmig.studio.display — how a value looks in a page, by its type:
-- NULL, json/jsonb, arrays, bytea, timestamps, enums, long text cut short.
local html = require("stallmig.studio.html")

local display = {}

local function kind(col)
  if col.typname == "json" or col.typname == "jsonb" then return "json" end
  if col.typname == "bytea" then return "bytea" end
  if col.category == "A" then return "array" end
  if col.category == "D" then return "time" end
  if col.typtype == "e" then return "enum" end
  if col.category == "N" then return "num" end
  if col.category == "B" then return "bool" end
  return "text"
end
display.kind = kind

-- display.cell(col, value, long, more_url) -> HTML
function display.cell(col, v, long, more_url)
  if v == nil then return '<i class="null">NULL</i>' end
  local k = kind(col)
  local shown = html.esc(v)
  if k == "bytea" then
    shown = html.esc(v:sub(1, 34)) .. (#v > 34 and "…" or "")
  end
  local out = '<span class="v ' .. k .. '" title="' .. html.esc(col.type) .. '">' .. shown .. "</span>"
  if long then
    out = out .. "…" .. (more_url and (' <a class="more" href="' .. html.esc(more_url) .. '">see all</a>') or "")
  end
  return out
end

-- The whole value (the row page): json pretty enough, text in a <pre>.
function display.full(col, v)
  if v == nil then return '<i class="null">NULL</i>' end
  local k = kind(col)
  if k == "json" or k == "text" or k == "array" then
    return '<pre class="v ' .. k .. '">' .. html.esc(v) .. "</pre>"
  end
  if k == "bytea" then
    return '<pre class="v bytea">' .. html.esc(v) .. "</pre> (" .. ((#v - 2) // 2) .. " bytes)"
  end
  return '<span class="v ' .. k .. '">' .. html.esc(v) .. "</span>"
end

return display
