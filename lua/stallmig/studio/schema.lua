-- stallmig.studio.schema — the schema diagram: every table a box with its
-- columns, every foreign key a line from the referencing table to the
-- referenced one, drawn as SVG here (no library, nothing fetched). Boxes
-- are laid out in a grid, schema by schema, in name order.
local html = require("stallmig.studio.html")
local catalog = require("stallmig.studio.catalog")

local schema = {}

local W, LINE, GAP, PER_ROW = 250, 16, 70, 4
local TYPE_CHARS = 16         -- a long type name is cut to fit the box
local MAX_COLS = 12          -- columns listed in a box; the rest as "+N more"

local function boxes(conn)
  local list = {}
  for _, r in ipairs(catalog.relations(conn)) do
    if r.kind ~= "v" and r.schema ~= "stallmig" then
      local cols = catalog.columns(conn, r.oid)
      list[#list + 1] = { key = r.schema .. "." .. r.name, schema = r.schema, name = r.name, cols = cols }
    end
  end
  local x, y, row_h, col = GAP / 2, GAP / 2, 0, 0
  for _, b in ipairs(list) do
    local shown = math.min(#b.cols, MAX_COLS) + (#b.cols > MAX_COLS and 1 or 0)
    b.x, b.y, b.h = x, y, LINE * (shown + 1) + 8
    row_h = math.max(row_h, b.h)
    col = col + 1
    if col == PER_ROW then x, y, row_h, col = GAP / 2, y + row_h + GAP, 0, 0 else x = x + W + GAP end
  end
  return list, y + row_h + GAP
end

local function box_svg(b)
  local out = { string.format('<g class="table" id="t-%s"><rect x="%d" y="%d" width="%d" height="%d" rx="4"/>',
    html.esc(b.key), b.x, b.y, W, b.h),
    string.format('<text class="name" x="%d" y="%d">%s</text>', b.x + 8, b.y + LINE, html.esc(b.key)) }
  for i = 1, math.min(#b.cols, MAX_COLS) do
    local c = b.cols[i]
    local ty = #c.type > TYPE_CHARS and (c.type:sub(1, TYPE_CHARS - 1) .. "…") or c.type
    out[#out + 1] = string.format('<text x="%d" y="%d">%s <tspan class="type">%s</tspan></text>',
      b.x + 8, b.y + LINE * (i + 1), html.esc(c.name), html.esc(ty))
  end
  if #b.cols > MAX_COLS then
    out[#out + 1] = string.format('<text x="%d" y="%d">+%d more</text>', b.x + 8, b.y + LINE * (MAX_COLS + 2), #b.cols - MAX_COLS)
  end
  out[#out + 1] = "</g>"
  return table.concat(out)
end

-- Where a foreign key's line leaves the referencing box and reaches the
-- referenced one: facing sides (left/right, or bottom/top in one column).
local function edge(from, to)
  if to.x > from.x then return from.x + W, from.y + LINE, to.x, to.y + LINE end
  if to.x < from.x then return from.x, from.y + LINE, to.x + W, to.y + LINE end
  if to.y > from.y then return from.x + W / 2, from.y + from.h, to.x + W / 2, to.y end
  return from.x + W / 2, from.y, to.x + W / 2, to.y + to.h
end

-- schema.svg(conn) -> the SVG document text
function schema.svg(conn)
  local list, height = boxes(conn)
  local by = {}
  for _, b in ipairs(list) do by[b.key] = b end
  local out = { string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" class="schema">',
    PER_ROW * (W + GAP), math.max(height, 80)) }
  for _, fk in ipairs(catalog.all_foreign_keys(conn)) do
    local from, to = by[fk.schema .. "." .. fk.table], by[fk.ref_schema .. "." .. fk.ref_table]
    if from and to and from ~= to then
      local x1, y1, x2, y2 = edge(from, to)
      out[#out + 1] = string.format('<line class="fk" x1="%d" y1="%d" x2="%d" y2="%d"><title>%s</title></line>',
        x1, y1, x2, y2, html.esc(fk.name))
      out[#out + 1] = string.format('<circle class="fk-end" cx="%d" cy="%d" r="4"/>', x2, y2)
    end
  end
  for _, b in ipairs(list) do out[#out + 1] = box_svg(b) end
  out[#out + 1] = "</svg>"
  return table.concat(out)
end

function schema.page(app)
  return html.page(app, "Schema", '<div id="diagram">' .. schema.svg(app.conn) .. "</div>")
end

return schema
