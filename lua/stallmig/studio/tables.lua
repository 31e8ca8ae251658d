-- stallmig.studio.tables — the tables pages: every relation with its
-- estimated rows and size; a relation's rows (filter, sort, keyset pages,
-- foreign keys as links); one row in full, with what references it.
local html = require("stallmig.studio.html")
local catalog = require("stallmig.studio.catalog")
local rows = require("stallmig.studio.rows")
local display = require("stallmig.studio.display")

local tables = {}

local KINDS = { r = "table", p = "table (partitioned)", v = "view", m = "materialized view" }

function tables.list(app, req)
  local out = {}
  for _, r in ipairs(catalog.relations(app.conn)) do
    local link = html.url("/rows", { schema = r.schema, table = r.name })
    out[#out + 1] = { html.esc(r.schema), '<a href="' .. html.esc(link) .. '">' .. html.esc(r.name) .. "</a>",
      KINDS[r.kind] or r.kind, r.kind == "v" and "" or ("≈ " .. tostring(r.estimate)),
      r.bytes and html.bytes(r.bytes) or "" }
  end
  return html.page(app, "Tables", html.table({ "schema", "name", "kind", "rows (estimate)", "size" }, out))
end

-- The relation a request names, with what the pages need of it; nil + 404.
function tables.target(app, args)
  local rel = catalog.relation(app.conn, args.schema or "", args.table or "")
  if not rel then return nil end
  local q = function(n) return app.conn:escape_identifier(n) end
  local t = { schema = args.schema, name = args.table, rel = rel, qname = q(args.schema) .. "." .. q(args.table) }
  t.cols = catalog.columns(app.conn, rel.oid)
  t.pk = catalog.primary_key(app.conn, rel.oid)
  t.out = catalog.outgoing(app.conn, rel.oid)
  t.into = catalog.incoming(app.conn, rel.oid)
  return t
end

local function base_args(t) return { schema = t.schema, table = t.name } end

-- A link to the rows of a table where column = value.
local function rows_where(schema, name, col, value)
  return html.url("/rows", { schema = schema, table = name, col = col, op = "eq", v = value })
end

local function row_url(t, keys)
  local a = base_args(t)
  for i, k in ipairs(keys) do a["k" .. i] = k end
  return html.url("/row", a)
end

-- Single-column foreign keys by column: cells become links to the row they name.
local function fk_links(t)
  local by = {}
  for _, fk in ipairs(t.out) do
    if #fk.cols == 1 then by[fk.cols[1]] = fk end
  end
  return by
end

local function filter_form(t, args)
  local opts = {}
  for _, c in ipairs(t.cols) do
    opts[#opts + 1] = '<option' .. (args.col == c.name and " selected" or "") .. ">" .. html.esc(c.name) .. "</option>"
  end
  local ops = {}
  for _, o in ipairs({ "eq", "contains", "null", "notnull", "range" }) do
    ops[#ops + 1] = '<option' .. (args.op == o and " selected" or "") .. ">" .. o .. "</option>"
  end
  return '<form method="get" action="/rows" id="filter">'
    .. '<input type="hidden" name="schema" value="' .. html.esc(t.schema) .. '">'
    .. '<input type="hidden" name="table" value="' .. html.esc(t.name) .. '">'
    .. '<select name="col">' .. table.concat(opts) .. '</select><select name="op">' .. table.concat(ops)
    .. '</select><input name="v" placeholder="value (from, for range)" value="' .. html.esc(args.v) .. '">'
    .. '<input name="v2" placeholder="to (range)" value="' .. html.esc(args.v2) .. '">'
    .. '<input type="hidden" name="sort" value="' .. html.esc(args.sort) .. '">'
    .. '<input type="hidden" name="desc" value="' .. html.esc(args.desc) .. '">'
    .. '<button type="submit">filter</button></form>'
end

local function count_line(app, t, filter)
  local below = app.exact_count_below
  if t.rel.kind ~= "v" and t.rel.estimate < below then
    return "rows: " .. tostring(rows.count(app.conn, t, filter))
  end
  return "rows: ≈ " .. tostring(t.rel.estimate) .. " (estimate: above exact_count_below = "
    .. tostring(below) .. ", nothing is counted)"
end

local function header_cells(t, args)
  local h = {}
  for _, c in ipairs(t.cols) do
    local desc = args.sort == c.name and args.desc ~= "1" and "1" or nil
    local a = base_args(t)
    a.sort, a.desc, a.col, a.op, a.v, a.v2 = c.name, desc, args.col, args.op, args.v, args.v2
    h[#h + 1] = '<a class="sort" href="' .. html.esc(html.url("/rows", a)) .. '">' .. html.esc(c.name)
      .. "</a><small>" .. html.esc(c.type) .. "</small>"
  end
  if #t.pk > 0 then table.insert(h, 1, "") end
  return h
end

function tables.rows(app, req)
  local args = req.args
  local t = tables.target(app, args)
  if not t then return app.not_found("no table " .. tostring(args.schema) .. "." .. tostring(args.table)) end
  local after
  if args.after then
    after = { keys = {}, v = args.after_v, null = args.after_null == "1" }
    for i = 1, 8 do after.keys[i] = args["after_k" .. i] end
  end
  local filter = { col = args.col, op = args.op, v = args.v, v2 = args.v2 }
  local page = rows.page(app.conn, t, { sort = args.sort, desc = args.desc == "1", filter = filter, after = after })
  local links = fk_links(t)
  local body = {}
  for _, r in ipairs(page.rows) do
    local cells = {}
    local more = #t.pk > 0 and row_url(t, r.keys) or nil
    for j, c in ipairs(t.cols) do
      local cell = display.cell(c, r.cells[j], r.long[j], more)
      local fk = links[c.name]
      if fk and r.cells[j] ~= nil then
        cell = cell .. ' <a class="fk" href="' .. html.esc(rows_where(fk.ref_schema, fk.ref_table, fk.ref_cols[1], r.cells[j]))
          .. '" title="the ' .. html.esc(fk.ref_table) .. ' row">→</a>'
      end
      cells[#cells + 1] = cell
    end
    if more then table.insert(cells, 1, '<a class="open" href="' .. html.esc(more) .. '">open</a>') end
    body[#body + 1] = cells
  end
  local nav = {}
  local first = base_args(t)
  first.sort, first.desc, first.col, first.op, first.v, first.v2 = args.sort, args.desc, args.col, args.op, args.v, args.v2
  if args.after then nav[#nav + 1] = '<a id="first" href="' .. html.esc(html.url("/rows", first)) .. '">first page</a>' end
  if page.next then
    local a = {}
    for k, v in pairs(first) do a[k] = v end
    a.after, a.after_v, a.after_null = "1", page.next.v, page.next.null and "1" or nil
    for i, k in ipairs(page.next.keys) do a["after_k" .. i] = k end
    nav[#nav + 1] = '<a id="next" href="' .. html.esc(html.url("/rows", a)) .. '">next page</a>'
  elseif not rows.key(t.rel, t.cols, t.pk, function(n) return n end) then
    nav[#nav + 1] = "(a view without a primary key shows its first page only)"
  end
  local insert = ""
  if not app.read_only and t.rel.kind ~= "v" then
    insert = ' <a id="insert" href="' .. html.esc(html.url("/insert", base_args(t))) .. '">insert a row</a>'
  end
  return html.page(app, t.schema .. "." .. t.name, table.concat({
    "<p>", html.esc(count_line(app, t, filter)), insert, "</p>", filter_form(t, args),
    html.table(header_cells(t, args), body),
    '<p class="nav">', table.concat(nav, " "), "</p>",
    '<details><summary>SQL</summary><pre id="sql">', html.esc(page.sql), "</pre></details>" }))
end

-- One row in full: every value whole, the rows it references and the
-- rows that reference it, and (on an editable environment) its form.
function tables.row(app, req)
  local t = tables.target(app, req.args)
  if not t or #t.pk == 0 then return app.not_found("no table with a primary key by that name") end
  local keys = {}
  for i = 1, #t.pk do keys[i] = req.args["k" .. i] end
  local r = rows.one(app.conn, t, keys)
  if not r then return app.not_found("no such row (deleted?)") end
  local list = {}
  for i, c in ipairs(t.cols) do
    list[#list + 1] = { html.esc(c.name) .. "<small>" .. html.esc(c.type) .. "</small>", display.full(c, r["c" .. i]) }
  end
  local refs = {}
  for _, fk in ipairs(t.out) do
    local vals = {}
    for _, col in ipairs(fk.cols) do vals[#vals + 1] = r["c" .. t.cols.by_name[col].index] end
    if #fk.cols == 1 and vals[1] ~= nil then
      refs[#refs + 1] = '<li>references <a class="fk-out" href="' .. html.esc(rows_where(fk.ref_schema, fk.ref_table, fk.ref_cols[1], vals[1]))
        .. '">' .. html.esc(fk.ref_schema .. "." .. fk.ref_table) .. "</a> (" .. html.esc(fk.name) .. ")</li>"
    end
  end
  for _, fk in ipairs(t.into) do
    if #fk.cols == 1 then
      local v = r["c" .. t.cols.by_name[fk.ref_cols[1]].index]
      refs[#refs + 1] = '<li>referenced by <a class="fk-in" href="' .. html.esc(rows_where(fk.schema, fk.table, fk.cols[1], v))
        .. '">' .. html.esc(fk.schema .. "." .. fk.table .. " (" .. fk.cols[1] .. ")") .. "</a></li>"
    end
  end
  local body = { html.table({ "column", "value" }, list), "<h2>Foreign keys</h2><ul>", table.concat(refs), "</ul>" }
  if not app.read_only then body[#body + 1] = require("stallmig.studio.edit").form(app, t, keys, r) end
  return html.page(app, t.schema .. "." .. t.name .. " row", table.concat(body))
end

tables.row_url = row_url
return tables
