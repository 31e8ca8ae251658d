-- stallmig.studio.edit — insert, update and delete one row, on an
-- environment with protected = false. Each change runs in a transaction,
-- shows its SQL and parameters, and reports what it changed. Nothing here
-- decides whether writing is allowed: on a protected environment (or one
-- in doubt) the host's connection is read-only and refuses the statement,
-- and while the studio serves no script can lift that (conn:allow_writes
-- and conn:begin_change are refused on protected connections).
local html = require("stallmig.studio.html")
local rows = require("stallmig.studio.rows")

local edit = {}

local function hidden(name, value)
  return '<input type="hidden" name="' .. html.esc(name) .. '" value="' .. html.esc(value) .. '">'
end

local function target_fields(t, keys)
  local out = { hidden("schema", t.schema), hidden("table", t.name) }
  for i, k in ipairs(keys or {}) do out[#out + 1] = hidden("k" .. i, k) end
  return table.concat(out)
end

local function value_inputs(t, r)
  local out = {}
  for i, c in ipairs(t.cols) do
    local v = r and r["c" .. i]
    out[#out + 1] = "<label>" .. html.esc(c.name) .. " <small>" .. html.esc(c.type) .. "</small>"
      -- the newline after <textarea> is the one HTML drops, so a value's own first newline stays
      .. '<textarea name="v' .. i .. '" rows="1">\n' .. html.esc(v) .. "</textarea>"
      .. '<input type="checkbox" name="n' .. i .. '" value="1"' .. ((r and v == nil) and " checked" or "")
      .. "> NULL</label>"
  end
  return table.concat(out)
end

-- The edit and delete forms of a row (the row page).
function edit.form(app, t, keys, r)
  return "<h2>Edit</h2>" .. html.form(app, "/row/update", target_fields(t, keys) .. value_inputs(t, r)
      .. '<button type="submit" id="save">save</button>', ' id="edit"')
    .. html.form(app, "/row/delete", target_fields(t, keys)
      .. '<button type="submit" id="delete">delete this row</button>', ' id="delete-form"')
end

function edit.insert_form(app, req)
  local t = require("stallmig.studio.tables").target(app, req.args)
  if not t then return app.not_found("no such table") end
  return html.page(app, "Insert into " .. t.schema .. "." .. t.name,
    "<p>Empty fields take the column's default.</p>"
    .. html.form(app, "/row/insert", target_fields(t) .. value_inputs(t, nil)
      .. '<button type="submit" id="save">insert</button>', ' id="edit"'))
end

-- The report of a change: its SQL, its parameters, the rows it returned.
local function report(app, t, title, sql, params, changed)
  local ps = {}
  for i = 1, params.n or #params do ps[#ps + 1] = { "$" .. i, params[i] == nil and "NULL" or html.esc(params[i]) } end
  local list = {}
  for _, row in ipairs(changed) do list[#list + 1] = { html.esc(row[1]), html.esc(row[2]), html.esc(row[3]) } end
  return html.page(app, title, table.concat({
    '<p id="changed">', html.esc(title), " (committed)</p>",
    '<h2>SQL</h2><pre id="sql">', html.esc(sql), "</pre>", html.table({ "parameter", "value" }, ps),
    "<h2>What changed</h2>", html.table({ "column", "before", "after" }, list),
    '<p><a href="', html.esc(html.url("/rows", { schema = t.schema, table = t.name })), '">back to the table</a></p>' }))
end

-- A browser sends a textarea's line ends as CRLF, whatever the value had:
-- compared and stored as LF, so a column nobody edited is not rewritten.
local function lf(v) return v and (v:gsub("\r\n", "\n")) end

-- The submitted value of column i: nil for NULL (or, inserting, empty).
local function submitted(form, i, inserting)
  if form["n" .. i] == "1" then return nil, true end
  local v = lf(form["v" .. i])
  if inserting and (v == nil or v == "") then return nil, false end
  return v, v ~= nil
end

-- Runs change(b) in a transaction; a refusal or an SQL error becomes a page
-- saying nothing was changed.
local function in_transaction(app, t, change)
  local ok, result = pcall(function()
    local tx <close> = app.conn:transaction()
    local out = change()
    tx:commit()
    return out
  end)
  if ok then return result end
  local e = type(result) == "table" and result or { message = tostring(result) }
  return { status = e.kind == "refused" and 403 or 409, type = "text/html; charset=utf-8",
    body = html.page(app, "Nothing was changed", '<p class="error" id="error">' .. html.esc(e.kind or "error")
      .. ": " .. html.esc(e.message) .. "</p>" .. (e.hint and ("<p>hint: " .. html.esc(e.hint) .. "</p>") or "")
      .. '<p><a href="' .. html.esc(html.url("/rows", { schema = t.schema, table = t.name })) .. '">back</a></p>') }
end

local function returning(conn, t)
  local q = {}
  for i, c in ipairs(t.cols) do q[i] = conn:escape_identifier(c.name) .. "::text AS c" .. i end
  return " RETURNING " .. table.concat(q, ", ")
end

local function keys_of(t, form)
  local keys = {}
  for i = 1, #t.pk do keys[i] = form["k" .. i] end
  return keys
end

function edit.update(app, req)
  local form = html.parse_form(req.body)
  local t = require("stallmig.studio.tables").target(app, form)
  if not t or #t.pk == 0 then return app.not_found("no table with a primary key by that name") end
  return in_transaction(app, t, function()
    local keys = keys_of(t, form)
    local before = rows.one(app.conn, t, keys)
    if not before then error({ kind = "failed", message = "the row is gone (deleted meanwhile?)" }, 0) end
    local b, sets, changed = rows.builder(), {}, {}
    for i, c in ipairs(t.cols) do
      local v, given = submitted(form, i, false)
      if given and v ~= lf(before["c" .. i]) then
        sets[#sets + 1] = app.conn:escape_identifier(c.name) .. " = " .. b.param(v)
        changed[#changed + 1] = { c.name, before["c" .. i] or "NULL" }
      end
    end
    if #sets == 0 then error({ kind = "usage", message = "no value differs from the row's: nothing to save" }, 0) end
    local sql = "UPDATE " .. t.qname .. " SET " .. table.concat(sets, ", ") .. " WHERE "
      .. rows.where_key(app.conn, t, keys, b) .. returning(app.conn, t)
    local after = app.conn:query(sql, table.unpack(b.params, 1, #b.params))
    if #after ~= 1 then error({ kind = "failed", message = #after .. " rows matched the key, not 1" }, 0) end
    for _, ch in ipairs(changed) do ch[3] = after[1]["c" .. t.cols.by_name[ch[1]].index] or "NULL" end
    b.params.n = #b.params
    return report(app, t, "Updated 1 row of " .. t.schema .. "." .. t.name, sql, b.params, changed)
  end)
end

function edit.insert(app, req)
  local form = html.parse_form(req.body)
  local t = require("stallmig.studio.tables").target(app, form)
  if not t then return app.not_found("no such table") end
  return in_transaction(app, t, function()
    local b, names, values = rows.builder(), {}, {}
    for i, c in ipairs(t.cols) do
      local v, given = submitted(form, i, true)
      if given then
        names[#names + 1] = app.conn:escape_identifier(c.name)
        values[#values + 1] = b.param(v)
      end
    end
    local sql = "INSERT INTO " .. t.qname .. (#names > 0 and (" (" .. table.concat(names, ", ") .. ") VALUES ("
      .. table.concat(values, ", ") .. ")") or " DEFAULT VALUES") .. returning(app.conn, t)
    local after = app.conn:query(sql, table.unpack(b.params, 1, #b.params))[1]
    local changed = {}
    for i, c in ipairs(t.cols) do changed[i] = { c.name, "", after["c" .. i] or "NULL" } end
    b.params.n = #b.params
    return report(app, t, "Inserted 1 row into " .. t.schema .. "." .. t.name, sql, b.params, changed)
  end)
end

function edit.delete(app, req)
  local form = html.parse_form(req.body)
  local t = require("stallmig.studio.tables").target(app, form)
  if not t or #t.pk == 0 then return app.not_found("no table with a primary key by that name") end
  return in_transaction(app, t, function()
    local b = rows.builder()
    local sql = "DELETE FROM " .. t.qname .. " WHERE " .. rows.where_key(app.conn, t, keys_of(t, form), b) .. returning(app.conn, t)
    local gone = app.conn:query(sql, table.unpack(b.params, 1, #b.params))
    if #gone ~= 1 then error({ kind = "failed", message = #gone .. " rows matched the key, not 1" }, 0) end
    local changed = {}
    for i, c in ipairs(t.cols) do changed[i] = { c.name, gone[1]["c" .. i] or "NULL", "(deleted)" } end
    b.params.n = #b.params
    return report(app, t, "Deleted 1 row of " .. t.schema .. "." .. t.name, sql, b.params, changed)
  end)
end

return edit
