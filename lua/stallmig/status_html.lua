-- stallmig.status_html — status --env all as one self-contained HTML page:
-- the environment matrix (state and time of each migration everywhere)
-- and the promotion timeline (when each migration reached each
-- environment, and how long after the one it is promoted from). It renders
-- status.all's document; it queries nothing (docs/reports.md).
--
--   local page = status_html.page(status.all(ctx))
local html = require("stallmig.html")
local sys = require("stallmig.sys")

local status_html = {}
local h = html.escape

local function matrix_html(all)
  local headers, rows = { "migration" }, {}
  for _, e in ipairs(all.environments) do
    headers[#headers + 1] = e.name .. (e.protected and " (protected)" or "")
  end
  for _, m in ipairs(all.migrations) do
    local row = { "<code>" .. h(m.name) .. "</code>" }
    for _, e in ipairs(all.environments) do
      local state, at = m.states[e.name], m.applied_at and m.applied_at[e.name]
      row[#row + 1] = "<span class=\"st-" .. h(state) .. "\">" .. h(state) .. "</span>"
        .. (at and ("<br><small>" .. h(at) .. "</small>") or "")
    end
    rows[#rows + 1] = row
  end
  local out = { "<h2>Environment matrix</h2>", html.table(headers, rows) }
  for _, e in ipairs(all.environments) do
    if e.error then out[#out + 1] = "<p class=\"sev-error\">" .. h(e.name) .. ": unreachable (" .. h(e.error) .. ")</p>" end
  end
  return table.concat(out, "\n")
end

local function epoch_of(utc)      -- "2024-03-01T09:00:00Z" -> seconds, or nil
  return utc and sys.epoch((utc:gsub("%D", "")))
end

local function lag_text(seconds)
  if seconds < 3600 then return string.format("%d min", seconds // 60) end
  if seconds < 86400 * 2 then return string.format("%.1f h", seconds / 3600) end
  return string.format("%.1f days", seconds / 86400)
end

-- One cell of the timeline: when it reached this environment, and how long
-- after the environment it is promoted from; "waiting" when that one has it.
local function timeline_cell(m, e)
  local at, state = m.applied_at and m.applied_at[e.name], m.states[e.name]
  local from = e.promote_from
  if state ~= "applied" then
    local ready = from and m.states[from] == "applied"
    return ready and ("<span class=\"st-pending\">waiting (applied in " .. h(from) .. ")</span>") or h(state)
  end
  local here, there = epoch_of(at), from and epoch_of(m.applied_at and m.applied_at[from])
  local lag = here and there and here >= there and ("<br><small>+" .. h(lag_text(here - there)) .. " after "
    .. h(from) .. "</small>") or ""
  return h(at or "applied") .. lag
end

local TIMELINE = 200   -- migrations on the timeline, the ones that moved last

local function timeline_html(all)
  local list = {}
  for _, m in ipairs(all.migrations) do
    local last = ""
    for _, at in pairs(m.applied_at or {}) do if at > last then last = at end end
    if last ~= "" then list[#list + 1] = { m = m, last = last } end
  end
  table.sort(list, function(a, b) return a.last > b.last or (a.last == b.last and a.m.name > b.m.name) end)
  local headers, rows = { "migration" }, {}
  for _, e in ipairs(all.environments) do
    headers[#headers + 1] = e.name .. (e.promote_from and (" (from " .. e.promote_from .. ")") or "")
  end
  for i, item in ipairs(list) do
    if i > TIMELINE then break end
    local row = { "<code>" .. h(item.m.name) .. "</code>" }
    for _, e in ipairs(all.environments) do row[#row + 1] = timeline_cell(item.m, e) end
    rows[#rows + 1] = row
  end
  local note = #list > TIMELINE and ("<p class=\"muted\">The " .. TIMELINE .. " migrations that moved last, of "
    .. #list .. ".</p>") or ""
  if #rows == 0 then return "<h2>Promotion timeline</h2><p class=\"muted\">Nothing applied anywhere yet.</p>" end
  return "<h2>Promotion timeline</h2><p>When each migration reached each environment (UTC), newest first; "
    .. "for an environment with promote_from, how long after that one.</p>" .. note .. html.table(headers, rows)
end

-- status_html.page(all) -> a whole HTML page from status.all's document:
-- the environment matrix (state and time per cell) and the promotion
-- timeline.
function status_html.page(all)
  local names = {}
  for _, e in ipairs(all.environments) do names[#names + 1] = e.name end
  local body = table.concat({
    "<h1>stallmig status: every environment</h1>",
    "<p class=\"meta\">", h(table.concat(names, ", ")), " · ", #all.migrations, " migration(s) · generated ",
    h(sys.utc_time()), "</p>",
    "<div class=\"verdict ", all.in_sync and "pass" or "fail", "\">",
    all.in_sync and "In sync: every migration is applied in every environment."
      or "Not in sync: some migrations are not applied everywhere (or an environment is unreachable).", "</div>",
    matrix_html(all), timeline_html(all),
  })
  return html.page("stallmig status: every environment", body)
end

return status_html
