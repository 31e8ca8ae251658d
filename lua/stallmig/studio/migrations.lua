-- stallmig.studio.migrations — the migrations pages: every migration
-- against every environment (status.all's matrix), the served
-- environment's history (checksum, applied when, how long, who, failures),
-- for pending ones the verify findings and the data at risk, the audit
-- timeline and the backups with the command that restores each.
local html = require("stallmig.studio.html")
local status = require("stallmig.status")
local migrations = require("stallmig.migrations")

local page = {}

local function host_table(conn, name)
  return conn:query("SELECT to_regclass($1) IS NOT NULL AS present", "stallmig." .. name)[1].present
end

local function matrix(app)
  local ok, all = pcall(status.all, app.ctx)
  if not ok then return '<p class="error">' .. html.esc(type(all) == "table" and all.message or all) .. "</p>" end
  local head = { "migration" }
  for _, e in ipairs(all.environments) do head[#head + 1] = html.esc(e.name) end
  local body = {}
  for _, m in ipairs(all.migrations) do
    local r = { '<a href="' .. html.esc(html.url("/migration", { name = m.name })) .. '">' .. html.esc(m.name) .. "</a>" }
    for _, e in ipairs(all.environments) do
      local st = m.states[e.name] or ""
      r[#r + 1] = '<span class="state ' .. html.esc(st) .. '">' .. html.esc(st) .. "</span>"
    end
    body[#body + 1] = r
  end
  local notes = {}
  for _, e in ipairs(all.environments) do
    if e.error then notes[#notes + 1] = "<li>" .. html.esc(e.name) .. ": unreachable (" .. html.esc(e.error) .. ")</li>" end
  end
  return '<div id="matrix">' .. html.table(head, body) .. "</div><ul>" .. table.concat(notes) .. "</ul>"
end

local function history(app)
  if not host_table(app.conn, "migrations") then return "<p>no history yet: nothing was deployed here</p>" end
  local body = {}
  for _, r in ipairs(app.conn:query([[
SELECT name, checksum, started_at::text AS started, duration_ms, applied_by, db_user, outcome, error
  FROM stallmig.migrations ORDER BY id DESC LIMIT 200]])) do
    body[#body + 1] = { html.esc(r.name), "<code>" .. html.esc((r.checksum or ""):sub(1, 12)) .. "</code>",
      html.esc(r.started), r.duration_ms and string.format("%.0f ms", r.duration_ms) or "",
      html.esc(r.applied_by) .. " (" .. html.esc(r.db_user) .. ")",
      '<span class="state ' .. html.esc(r.outcome) .. '">' .. html.esc(r.outcome) .. "</span>", html.esc(r.error) }
  end
  return html.table({ "migration", "checksum", "applied at", "took", "who", "outcome", "failure" }, body)
end

local function audit(app)
  if not host_table(app.conn, "audit") then return "<p>no audit rows yet</p>" end
  local body = {}
  for _, r in ipairs(app.conn:query([[
SELECT at::text AS at, actor, workflow, action, detail, outcome FROM stallmig.audit ORDER BY id DESC LIMIT 100]])) do
    body[#body + 1] = { html.esc(r.at), html.esc(r.actor), html.esc(r.workflow), html.esc(r.action),
      html.esc(r.detail), html.esc(r.outcome) }
  end
  return html.table({ "at", "who", "workflow", "action", "detail", "outcome" }, body)
end

local function backups(app)
  if not host_table(app.conn, "backups") then return "<p>no backups recorded</p>" end
  local body = {}
  for _, r in ipairs(app.conn:query([[
SELECT taken_at::text AS at, path, size_bytes, taken_by, last_migration FROM stallmig.backups ORDER BY id DESC LIMIT 50]])) do
    body[#body + 1] = { html.esc(r.at), html.esc(r.path), html.bytes(r.size_bytes), html.esc(r.taken_by),
      html.esc(r.last_migration), "<code>stallrun workflows/restore.lua --env " .. html.esc(app.env)
        .. " --backup " .. html.esc(r.path) .. "</code>" }
  end
  return html.table({ "taken at", "file", "size", "by", "last migration", "restore with" }, body)
end

function page.list(app)
  return html.page(app, "Migrations", table.concat({
    "<h2>Every environment</h2>", matrix(app),
    "<h2>History of ", html.esc(app.env), "</h2>", history(app),
    "<h2>Audit timeline</h2>", audit(app),
    "<h2>Backups</h2>", backups(app) }))
end

-- One migration: its SQL, and when it is pending here what verify finds.
function page.one(app, req)
  local found = migrations.discover(app.ctx.config)
  local m
  for _, x in ipairs(found) do if x.name == req.args.name then m = x end end
  if not m then return app.not_found("no migration named " .. tostring(req.args.name)) end
  migrations.locate(m, found)
  local ok_read, sql = pcall(require("stallmig.files").read, m.path)
  local out = { "<p>", html.esc(m.file), " · checksum <code>", html.esc(m.checksum), "</code></p>",
    "<h2>SQL</h2><pre id=\"migration-sql\">", html.esc(ok_read and sql or "(unreadable)"), "</pre>" }
  local ok, doc = pcall(require("stallmig.verify").run, app.ctx, app.env)
  if ok then
    for _, v in ipairs(doc.migrations) do
      if v.name == m.name then
        local items = {}
        for _, fd in ipairs(v.findings or {}) do
          items[#items + 1] = "<li>" .. html.esc(fd.severity) .. " " .. html.esc(fd.rule) .. ": " .. html.esc(fd.message) .. "</li>"
        end
        for _, ev in ipairs(v.evidence or {}) do items[#items + 1] = '<li class="risk">data at risk: ' .. html.esc(ev.text) .. "</li>" end
        for _, why in ipairs(v.blocking or {}) do items[#items + 1] = "<li>the deploy would refuse: " .. html.esc(why) .. "</li>" end
        out[#out + 1] = "<h2>Pending on " .. html.esc(app.env) .. ": verify</h2><ul id=\"findings\">"
          .. (#items > 0 and table.concat(items) or "<li>no findings</li>") .. "</ul>"
      end
    end
  else
    out[#out + 1] = '<p class="error">verify failed: ' .. html.esc(type(doc) == "table" and doc.message or doc) .. "</p>"
  end
  return html.page(app, m.name, table.concat(out))
end

return page
