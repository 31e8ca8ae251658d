-- stallmig.report_html — verify's document as one self-contained HTML page
-- for a CI artifact (docs/reports.md). It renders the document the text and
-- --json forms print; it queries nothing. Every value from the project or
-- the database goes through html.escape.
--
--   local page = report_html.verify(verify.run(ctx, "staging"))
local html = require("stallmig.html")
local review = require("stallmig.review")
local locks = require("stallmig.locks")
local report = require("stallmig.report")
local sys = require("stallmig.sys")
local tree = require("stallmig.sqltree")

local report_html = {}
local h = html.escape

local function where(f)
  return h(f.file) .. (f.line and (":" .. h(f.line) .. (f.column and (":" .. h(f.column)) or "")) or "")
end

-- ---- one migration ---------------------------------------------------------

local function findings_html(entry)
  if #entry.findings == 0 then return "<p class=\"muted\">No lint findings.</p>" end
  local rows = {}
  for _, f in ipairs(entry.findings) do
    local sev = f.suppressed and "suppressed" or f.severity
    local recipe = f.suppressed and ("suppressed: " .. h(f.suppressed)) or h(f.suggestion)
    rows[#rows + 1] = { "<span class=\"sev-" .. h(sev) .. "\">" .. h(sev) .. "</span>", "<code>" .. where(f)
      .. "</code>", "<code>" .. h(f.rule) .. "</code>", h(f.message) .. (f.explanation and
      ("<br><small>" .. h(f.explanation) .. "</small>") or ""), recipe }
  end
  return html.table({ "severity", "where", "rule", "finding", "safe recipe" }, rows)
end

local function risk_html(entry, env)
  local items = {}
  for _, item in ipairs(entry.evidence) do
    local class = item.unknown and "sev-warning" or (item.at_risk and "sev-error" or "")
    items[#items + 1] = "<span class=\"" .. class .. "\">" .. h(item.text) .. "</span>"
  end
  if #items == 0 then items[1] = "<span class=\"muted\">Nothing in it discards or rewrites existing rows.</span>" end
  if entry.blocking and #entry.blocking > 0 then
    items[#items + 1] = "<span class=\"sev-error\">deploy " .. (env.protected and "refuses" or "would refuse")
      .. " it on " .. h(env.name) .. (env.protected and "" or " if it were protected")
      .. ": data would be lost here (allow it in the file with a reason, or --accept-data-loss)</span>"
  end
  return html.list(items)
end

local function lock_cell(l)
  local name = h(tree.qualified(l.schema, l.table))
  if l.new_table then
    return "<code>" .. h(l.mode) .. "</code> on " .. name .. " <small>(created in this run: nobody waits)</small>"
  end
  return "<span class=\"lock-" .. l.level .. "\"><code>" .. h(l.mode) .. "</code> on " .. name
    .. "</span> <small>(" .. h(l.what) .. ")</small>"
end

local BLOCKS = {}   -- mode -> its cell, drawn once per page run (eight at most)

local function blocks_cell(l)
  if l.new_table then return "<span class=\"muted\">nothing</span>" end
  if not BLOCKS[l.mode] then
    local b = locks.blocks(l.mode)
    BLOCKS[l.mode] = h(b.summary) .. "<br><small>conflicts with " .. h(table.concat(b.modes, ", ")) .. ": "
      .. h(b.statements) .. "</small>"
  end
  return BLOCKS[l.mode]
end

local function statements_html(entry)
  local rows = {}
  for _, st in ipairs(entry.statements or {}) do
    local sql = "<pre><code>" .. h(st.sql) .. (st.sql_cut and "\n…" or "") .. "</code></pre>"
    if #st.locks == 0 then
      rows[#rows + 1] = { h(st.line), sql, "<span class=\"muted\">no lock on an existing table</span>", "" }
    end
    for i, l in ipairs(st.locks) do
      rows[#rows + 1] = { i == 1 and h(st.line) or "", i == 1 and sql or "", lock_cell(l), blocks_cell(l) }
    end
  end
  if entry.statements_omitted then
    rows[#rows + 1] = { "", "<span class=\"muted\">… and " .. h(entry.statements_omitted) .. " more statement(s) "
      .. "that take no lock beyond ROW EXCLUSIVE (not listed)</span>", "", "" }
  end
  if #rows == 0 then return "<p class=\"muted\">No statements.</p>" end
  return "<p>" .. (entry.mode == "transactional" and "The migration runs in one transaction: each lock is "
    .. "held until it commits." or "The statements run one by one: each holds its lock while it runs.")
    .. "</p>" .. html.table({ "line", "statement", "lock it takes", "what that lock blocks" }, rows, "statements")
end

local function migration_html(i, entry, env)
  return table.concat({
    "<section class=\"migration\" id=\"m", i, "\">",
    "<h2>", h(entry.name), "</h2>",
    "<p class=\"meta\"><code>", h(entry.file), "</code> · ", h(entry.mode), "</p>",
    "<h3>Findings</h3>", findings_html(entry),
    "<h3>Data at risk</h3>", risk_html(entry, env),
    "<h3>Statements and their locks</h3>", statements_html(entry),
    "<h3>Rehearsal</h3><p>", h(review.rehearsal_text(entry.rehearsal, env.name)), "</p>",
    "<h3>Rollback plan</h3><p class=\"", review.has_down(entry.down_sql) and "" or "sev-warning", "\">",
    h(review.down_text(entry.down_sql)), "</p>",
    entry.down_sql.sql and ("<pre><code>" .. h(entry.down_sql.sql) .. (entry.down_sql.sql_cut and "\n…" or "")
      .. "</code></pre>") or "",
    "</section>",
  })
end

-- ---- the whole verify report ----------------------------------------------

local function counts(entry)
  local errors, warnings, risk, level = 0, 0, 0, 0
  for _, f in ipairs(entry.findings) do
    if not f.suppressed then
      if f.severity == "error" then errors = errors + 1 else warnings = warnings + 1 end
    end
  end
  for _, item in ipairs(entry.evidence) do if item.at_risk or item.unknown then risk = risk + 1 end end
  for _, st in ipairs(entry.statements or {}) do
    for _, l in ipairs(st.locks) do if not l.new_table then level = math.max(level, l.level) end end
  end
  return errors, warnings, risk, level
end

local function summary_html(doc)
  local rows = {}
  for i, entry in ipairs(doc.migrations) do
    local errors, warnings, risk, level = counts(entry)
    local r = entry.rehearsal
    rows[#rows + 1] = { "<a href=\"#m" .. i .. "\">" .. h(entry.name) .. "</a>", h(errors), h(warnings),
      risk > 0 and ("<span class=\"sev-error\">" .. risk .. " statement(s)</span>") or "none",
      level > 0 and ("<code>" .. h(locks.MODES[level].name) .. "</code>") or "none",
      r and (r.status == "failed" and "<span class=\"sev-error\">failed</span>" or
        (r.duration_ms and h(report.ms(r.duration_ms / 1000)) or "not rehearsed")) or "not rehearsed",
      review.has_down(entry.down_sql) and "down.sql" or "<span class=\"sev-warning\">none</span>" }
  end
  if #rows == 0 then return "<p>Nothing to verify: " .. h(doc.environment) .. " has no pending migrations.</p>" end
  return html.table({ "migration", "errors", "warnings", "data at risk", "strongest lock", "rehearsal",
    "rollback" }, rows)
end

local function history_html(doc)
  local out = { "<h2>Applied migrations and drift</h2>" }
  if doc.history.ok then
    out[#out + 1] = "<p>" .. h(doc.history.applied or 0) .. " applied, none edited or missing.</p>"
  else
    out[#out + 1] = "<p class=\"sev-error\">" .. h(doc.history.message) .. "</p>"
    if doc.history.hint then out[#out + 1] = "<p>hint: " .. h(doc.history.hint) .. "</p>" end
  end
  if not doc.drift then
    out[#out + 1] = "<p class=\"muted\">Drift: not checked (--drift replays the applied migrations on a shadow database).</p>"
  elseif #doc.drift.differences == 0 then
    out[#out + 1] = "<p>Drift: none, the schema matches the applied migrations.</p>"
  else
    local items = {}
    for _, d in ipairs(doc.drift.differences) do items[#items + 1] = h(d) end
    out[#out + 1] = "<p class=\"sev-error\">Drift: " .. #items .. " difference(s):</p>" .. html.list(items)
  end
  return table.concat(out, "\n")
end

-- The table of lock modes the report's lock columns refer to.
local function lock_modes_html()
  local rows = {}
  for _, m in ipairs(locks.MODES) do
    local b = locks.blocks(m.name)
    rows[#rows + 1] = { "<code>" .. h(m.name) .. "</code>", h(m.taken_by), h(table.concat(b.modes, ", ")),
      h(b.summary) }
  end
  return "<h2>PostgreSQL lock modes</h2>" .. html.table({ "mode", "taken by", "conflicts with",
    "while it is held" }, rows)
end

local function notes_html(warnings)
  if not warnings or #warnings == 0 then return "" end
  local items = {}
  for _, w in ipairs(warnings) do items[#items + 1] = h(w) end
  return "<h2>Warnings</h2>" .. html.list(items)
end

-- report_html.verify(doc [, warnings]) -> a whole HTML page: the verdict,
-- a summary, then per migration its findings with the safe recipe, the
-- data at risk, each statement's lock and what it blocks, the rehearsal,
-- the rollback plan; the history, drift, warnings and the lock-mode table.
function report_html.verify(doc, warnings)
  local v = doc.verdict or review.verdict(doc)
  local env = { name = doc.environment, protected = doc.protected }
  local parts = {
    "<h1>stallmig verify: ", h(doc.environment), "</h1>",
    "<p class=\"meta\">", #doc.migrations, " pending migration(s) · ",
    doc.rehearsal and "rehearsed in one transaction, rolled back" or "read-only", " · generated ",
    h(sys.utc_time()), "</p>",
    "<div class=\"verdict ", v.ok and "pass" or "fail", "\">", h(v.text), "</div>",
    v.warnings_from and ("<p>Warnings: " .. h(v.warnings_from) .. ".</p>") or "",
    summary_html(doc),
  }
  for i, entry in ipairs(doc.migrations) do parts[#parts + 1] = migration_html(i, entry, env) end
  parts[#parts + 1] = history_html(doc)
  parts[#parts + 1] = notes_html(warnings)
  parts[#parts + 1] = lock_modes_html()
  return html.page("stallmig verify: " .. tostring(doc.environment) .. (v.ok and " PASS" or " FAIL"),
    table.concat(parts))
end

return report_html
