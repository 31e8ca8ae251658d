-- stallmig.studio — the database browser (`prisma studio`): pages are Lua
-- functions on routes, served by the host's HTTP server (stallmig.http,
-- libmicrohttpd). docs/studio.md explains the pages, the security the host
-- enforces and how a team adds a page:
--
--   local studio = require("stallmig.studio")
--   studio.route("GET", "^/flags$", function(app, req) return studio.html.page(app, "Flags", "...") end)
--   studio.serve(ctx, { env = ctx.env })
local db = require("stallmig.db")
local http = require("stallmig.http")
local sys = require("stallmig.sys")
local html = require("stallmig.studio.html")
local tables = require("stallmig.studio.tables")
local edit = require("stallmig.studio.edit")
local migrations = require("stallmig.studio.migrations")
local schema = require("stallmig.studio.schema")

local studio = { html = html }

local STATEMENT_TIMEOUT = 5000   -- ms: every request's (the host sets it on the connection)

-- The pages, first match wins: {method, pattern, function(app, req)}.
local routes = {
  { "GET", "^/$", tables.list },
  { "GET", "^/rows$", tables.rows },
  { "GET", "^/row$", tables.row },
  { "GET", "^/insert$", edit.insert_form },
  { "POST", "^/row/update$", edit.update },
  { "POST", "^/row/insert$", edit.insert },
  { "POST", "^/row/delete$", edit.delete },
  { "GET", "^/migrations$", migrations.list },
  { "GET", "^/migration$", migrations.one },
  { "GET", "^/schema$", schema.page },
  { "GET", "^/schema%.svg$", function(app) return { type = "image/svg+xml", body = schema.svg(app.conn) } end },
}

-- studio.route(method, pattern, page): adds a page (before the built-in
-- ones, so a team may also replace one). page(app, req) returns the HTML of
-- the page, or {status, type, body, location}. app = {ctx, conn, env,
-- read_only (why, or nil), csrf}; req = {method, path, args, body, csrf}.
function studio.route(method, pattern, page)
  table.insert(routes, 1, { method, pattern, page })
end

local STATIC = { css = "text/css; charset=utf-8", js = "text/javascript; charset=utf-8" }

local function static(app, req)
  local name, ext = req.path:match("^/static/([%w_%-]+)%.(%a+)$")
  local f = name and STATIC[ext] and io.open(app.ctx.root .. "/lua/stallmig/studio/static/" .. name .. "." .. ext, "rb")
  if not f then return app.not_found("no such file") end
  local body = f:read("a")
  f:close()
  return { type = STATIC[ext], body = body }
end

local function error_page(app, e)
  e = type(e) == "table" and e or { kind = "bug", message = tostring(e) }
  local status = ({ usage = 400, sql = 400, refused = 403 })[e.kind] or 500
  return { status = status, body = html.page(app, "That did not work",
    '<p class="error" id="error">' .. html.esc(e.kind) .. ": " .. html.esc(e.message) .. "</p>"
    .. (e.hint and ("<p>hint: " .. html.esc(e.hint) .. "</p>") or "")) }
end

-- One request: the statement timeout set, the route found, its answer
-- normalised; an error becomes a page (the workflow goes on serving).
local function handle(app, req)
  app.csrf = req.csrf
  if req.path:match("^/static/") and req.method == "GET" then return static(app, req) end
  for _, r in ipairs(routes) do
    if (r[1] == req.method or (r[1] == "GET" and req.method == "HEAD")) and req.path:match(r[2]) then
      local ok, answer = pcall(r[3], app, req)
      if not ok then return error_page(app, answer) end
      return type(answer) == "table" and answer or { body = answer }
    end
  end
  return app.not_found("no page " .. req.path)
end

-- Why the connection is read-only, or nil: the host decided at connect.
local function read_only_reason(conn)
  local id = conn:identity()
  if id.doubt then return "the database is in doubt: " .. id.doubt end
  if id.read_only or id.protected then
    return id.env .. " is protected: the host's connection is read-only, and nothing in the studio can change that"
  end
  return nil
end

-- studio.serve(ctx, {env, port, listen, open, say}): connects to env and
-- serves until SIGINT/SIGTERM. say(line) prints the URL (default print).
function studio.serve(ctx, opts)
  local conn <close> = db.connect(opts.env)
  local envcfg = ctx.config.environments[opts.env]
  local app = { ctx = ctx, conn = conn, env = opts.env, read_only = read_only_reason(conn),
    exact_count_below = envcfg.exact_count_below or 1000000,
    statement_timeout = opts.statement_timeout or STATEMENT_TIMEOUT }
  function app.not_found(message)
    return { status = 404, body = html.page(app, "Not found", '<p class="error">' .. html.esc(message) .. "</p>") }
  end
  local say = opts.say or print
  http.serve({
    listen = opts.listen, port = opts.port, conn = conn, statement_timeout = app.statement_timeout,
    handler = function(req) return handle(app, req) end,
    ready = function(url)
      say("studio: " .. url)
      say("studio: serving " .. opts.env .. (app.read_only and (" read-only (" .. app.read_only .. ")") or " (editable)")
        .. "; Ctrl-C stops it")
      if opts.open then pcall(sys.run, { "xdg-open", url }) end
    end,
  })
end

return studio
