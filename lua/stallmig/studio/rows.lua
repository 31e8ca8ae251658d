-- stallmig.studio.rows — a relation's rows as parameterised SQL: one page
-- by key (keyset paging: WHERE (sort, key) > (last seen) ORDER BY ... LIMIT,
-- never OFFSET), a filter, the sort column, one row by its primary key.
-- Identifiers are quoted by libpq (conn:escape_identifier) after they were
-- found among the relation's columns; values are always parameters.
local rows = {}

rows.PAGE = 50
rows.SHOWN = 80         -- characters of a value a page shows; the row page shows all

local OPS = { eq = true, contains = true, null = true, notnull = true, range = true }

local function fail(message)
  error({ kind = "usage", message = message }, 0)
end

-- A query being built: its WHERE parts and its parameters.
local function builder()
  local b = { where = {}, params = {} }
  function b.param(v)
    b.params[#b.params + 1] = v
    return "$" .. #b.params
  end
  return b
end

local function column(cols, name)
  local c = cols.by_name[name or ""]
  if not c then fail("no column " .. tostring(name) .. " in this table") end
  return c
end

-- filter = {col, op, v, v2}: equals, contains (case-insensitive, on the
-- text form), is null / is not null, a range (either end may be empty).
local function add_filter(b, q, cols, f)
  if not f or not f.col or f.col == "" then return end
  local col = q(column(cols, f.col).name)
  local op = f.op or "eq"
  if not OPS[op] then fail("unknown filter " .. op .. " (eq, contains, null, notnull, range)") end
  if op == "eq" then
    b.where[#b.where + 1] = col .. " = " .. b.param(f.v or "")
  elseif op == "contains" then
    b.where[#b.where + 1] = "strpos(lower(" .. col .. "::text), lower(" .. b.param(f.v or "") .. ")) > 0"
  elseif op == "null" then
    b.where[#b.where + 1] = col .. " IS NULL"
  elseif op == "notnull" then
    b.where[#b.where + 1] = col .. " IS NOT NULL"
  else
    if f.v and f.v ~= "" then b.where[#b.where + 1] = col .. " >= " .. b.param(f.v) end
    if f.v2 and f.v2 ~= "" then b.where[#b.where + 1] = col .. " <= " .. b.param(f.v2) end
  end
end

-- The key a page is ordered and continued by: the primary key, or ctid
-- for a table without one; nil for a view without one (first page only).
function rows.key(rel, cols, pk, q)
  if #pk > 0 then
    local k = {}
    for i, name in ipairs(pk) do k[i] = q(column(cols, name).name) end
    return k
  end
  if rel.kind == "r" or rel.kind == "p" or rel.kind == "m" then return { "ctid" } end
  return nil
end

local function tuple(list) return "(" .. table.concat(list, ", ") .. ")" end

-- The "after" condition: rows past the last one shown, in sort order
-- (NULLs of the sort column last, as ORDER BY ... NULLS LAST puts them).
local function add_after(b, key, sort, desc, after)
  if not after or not key then return end
  local op = desc and " < " or " > "
  local ps = {}
  for i = 1, #key do ps[i] = b.param(after.keys[i]) end
  local past_key = tuple(key) .. op .. tuple(ps)
  if not sort then
    b.where[#b.where + 1] = past_key
  elseif after.null then
    b.where[#b.where + 1] = "(" .. sort .. " IS NULL AND " .. past_key .. ")"
  else
    local v = b.param(after.v)
    b.where[#b.where + 1] = "(" .. sort .. op .. v .. " OR (" .. sort .. " = " .. v .. " AND "
      .. past_key .. ") OR " .. sort .. " IS NULL)"
  end
end

-- rows.page(conn, target, opts) -> {sql, params, rows = {{cells, long,
-- keys}}, next = after-cursor or nil}. target = {qname, rel, cols, pk};
-- opts = {sort, desc, filter, after = {null, v, keys}}.
function rows.page(conn, t, opts)
  local q = function(n) return conn:escape_identifier(n) end
  local key = rows.key(t.rel, t.cols, t.pk, q)
  local sort = opts.sort and opts.sort ~= "" and q(column(t.cols, opts.sort).name) or nil
  if sort and key and #key == 1 and key[1] == sort then sort = nil end
  local b = builder()
  add_filter(b, q, t.cols, opts.filter)
  add_after(b, key, sort, opts.desc, opts.after)
  local select = {}
  for i, c in ipairs(t.cols) do
    select[#select + 1] = string.format("left(%s::text, %d) AS c%d", q(c.name), rows.SHOWN + 1, i)
  end
  local dir = opts.desc and " DESC" or ""
  local order = {}
  if sort then
    select[#select + 1] = sort .. "::text AS s, " .. sort .. " IS NULL AS sn"
    order[#order + 1] = sort .. dir .. " NULLS LAST"
  end
  for i, k in ipairs(key or {}) do
    select[#select + 1] = k .. "::text AS k" .. i
    order[#order + 1] = k .. dir
  end
  local sql = "SELECT " .. table.concat(select, ", ") .. " FROM " .. t.qname
    .. (#b.where > 0 and (" WHERE " .. table.concat(b.where, " AND ")) or "")
    .. (#order > 0 and (" ORDER BY " .. table.concat(order, ", ")) or "")
    .. " LIMIT " .. (rows.PAGE + 1)
  local found = conn:query(sql, table.unpack(b.params, 1, #b.params))
  local page = { sql = sql, params = b.params, rows = {} }
  for i = 1, math.min(#found, rows.PAGE) do
    local r, out = found[i], { cells = {}, long = {}, keys = {} }
    for j = 1, #t.cols do
      local v = r["c" .. j]
      if type(v) == "string" and #v > rows.SHOWN then out.long[j] = true; v = v:sub(1, rows.SHOWN) end
      out.cells[j] = v
    end
    for k = 1, #(key or {}) do out.keys[k] = r["k" .. k] end
    out.sort, out.sort_null = r.s, r.sn
    page.rows[#page.rows + 1] = out
  end
  if #found > rows.PAGE and key then
    local last = page.rows[#page.rows]
    page.next = { keys = last.keys, v = last.sort, null = sort and last.sort_null or nil }
  end
  return page
end

-- The WHERE of one row by its primary key (values as parameters).
function rows.where_key(conn, t, keys, b)
  local parts = {}
  for i, name in ipairs(t.pk) do
    if keys[i] == nil then fail("the row's key " .. name .. " is missing") end
    parts[i] = conn:escape_identifier(name) .. " = " .. b.param(keys[i])
  end
  return table.concat(parts, " AND ")
end

-- rows.one(conn, t, keys) -> {text values by column index} or nil.
function rows.one(conn, t, keys)
  local b = builder()
  local select = {}
  for i, c in ipairs(t.cols) do select[i] = conn:escape_identifier(c.name) .. "::text AS c" .. i end
  local sql = "SELECT " .. table.concat(select, ", ") .. " FROM " .. t.qname .. " WHERE "
    .. rows.where_key(conn, t, keys, b)
  return conn:query(sql, table.unpack(b.params, 1, #b.params))[1]
end

-- rows.count(conn, t, filter) -> exact count (the caller decides when it may).
function rows.count(conn, t, filter)
  local b = builder()
  add_filter(b, function(n) return conn:escape_identifier(n) end, t.cols, filter)
  local sql = "SELECT count(*) AS n FROM " .. t.qname
    .. (#b.where > 0 and (" WHERE " .. table.concat(b.where, " AND ")) or "")
  return conn:query(sql, table.unpack(b.params, 1, #b.params))[1].n
end

rows.builder = builder
return rows
