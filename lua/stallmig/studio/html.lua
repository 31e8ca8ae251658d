-- stallmig.studio.html — escaping, links and the page layout every studio
-- page shares. Everything a page shows from the database goes through
-- html.esc; every link through html.url (its parameters percent-encoded).
local html = {}

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

function html.esc(s)
  if s == nil then return "" end
  return (tostring(s):gsub("[&<>\"']", ESC))
end

local function pct(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- html.url("/rows", {schema = "app", table = "t"}) -> "/rows?schema=app&table=t"
-- (keys sorted, so the same link is the same text).
function html.url(path, params)
  local keys = {}
  for k, v in pairs(params or {}) do if v ~= nil and v ~= "" then keys[#keys + 1] = k end end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = pct(k) .. "=" .. pct(params[k]) end
  return #parts > 0 and (path .. "?" .. table.concat(parts, "&")) or path
end

-- A urlencoded form body as a table (the last value of a repeated key wins).
function html.parse_form(body)
  local t = {}
  for pair in (body or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    local function dec(s)
      return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
    end
    t[dec(k)] = dec(v)
  end
  return t
end

-- The page around a body: the navigation, the environment, and why it is
-- read-only when it is.
function html.page(app, title, body)
  local mode = app.read_only
    and ('<p class="ro" id="read-only">read-only: ' .. html.esc(app.read_only) .. "</p>")
    or '<p class="rw">editable: ' .. html.esc(app.env) .. " has protected = false</p>"
  return table.concat({
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="csrf" content="', html.esc(app.csrf), '">',
    '<link rel="icon" href="data:,">', "<title>", html.esc(title), " — stallmig studio</title>",
    '<link rel="stylesheet" href="/static/studio.css"><script src="/static/studio.js" defer></script>',
    "</head><body><header><b>stallmig studio</b> · ", html.esc(app.env), " · ",
    '<a href="/">tables</a> <a href="/migrations">migrations</a> <a href="/schema">schema</a>',
    app.extra_nav or "", "</header>", mode, "<main><h1>", html.esc(title), "</h1>", body,
    "</main></body></html>" })
end

-- A form that changes something carries the CSRF token the host checks.
function html.form(app, action, inner, attrs)
  return '<form method="post" action="' .. html.esc(action) .. '"' .. (attrs or "") .. '>'
    .. '<input type="hidden" name="csrf" value="' .. html.esc(app.csrf) .. '">' .. inner .. "</form>"
end

function html.table(headers, rows)
  local out = { "<table><thead><tr>" }
  for _, h in ipairs(headers) do out[#out + 1] = "<th>" .. h .. "</th>" end
  out[#out + 1] = "</tr></thead><tbody>"
  for _, r in ipairs(rows) do
    out[#out + 1] = "<tr>"
    for _, cell in ipairs(r) do out[#out + 1] = "<td>" .. cell .. "</td>" end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out)
end

function html.bytes(n)
  n = tonumber(n) or 0
  local units, i = { "B", "kB", "MB", "GB", "TB" }, 1
  while n >= 1024 and i < #units do n, i = n / 1024, i + 1 end
  return i == 1 and string.format("%d B", n) or string.format("%.1f %s", n, units[i])
end

return html
