-- stallmig.report_markdown — verify's document as the short Markdown form
-- for a pull-request comment or a GitHub job summary ($GITHUB_STEP_SUMMARY):
-- the verdict, a table of the migrations that need a look, their findings
-- and data at risk, and the clean ones collapsed in <details>. It renders
-- the document the other forms print; it queries nothing.
--
--   sys.out(report_markdown.verify(verify.run(ctx, "staging")))
local review = require("stallmig.review")
local locks = require("stallmig.locks")
local report = require("stallmig.report")
local sys = require("stallmig.sys")

local report_markdown = {}

local SHOWN = 50          -- migrations shown in full; the rest are counted
local CLEAN_LISTED = 100  -- clean migrations named in the collapsed list

local ENTITY = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ["|"] = "&#124;", ["@"] = "&#64;" }

-- report_markdown.escape(value) -> text that renders as itself on one line
-- (in a table cell too): passwords redacted; HTML and the Markdown that
-- would format it (`*_[]#~\) escaped; line breaks become spaces; @ cannot
-- mention anyone.
function report_markdown.escape(value)
  if value == nil then return "" end
  local text = sys.redact(tostring(value)):gsub("[\0-\31\127]+", " ")
  return (text:gsub("[&<>|@]", ENTITY):gsub("[\\`*_%[%]#~]", "\\%0"))
end
local md = report_markdown.escape

-- Needs a look: a finding that counts, data at risk or a figure the review
-- could not read, a failed rehearsal. A missing down.sql alone does not.
local function needs_look(entry)
  for _, f in ipairs(entry.findings) do if not f.suppressed then return true end end
  for _, item in ipairs(entry.evidence) do if item.at_risk or item.unknown then return true end end
  return (entry.blocking and #entry.blocking > 0) or (entry.rehearsal and entry.rehearsal.status == "failed")
end

local function strongest_lock(entry)
  local level = 0
  for _, st in ipairs(entry.statements or {}) do
    for _, l in ipairs(st.locks) do if not l.new_table then level = math.max(level, l.level) end end
  end
  return level > 0 and locks.MODES[level].name or nil
end

local function row(entry)
  local errors, warnings = 0, 0
  for _, f in ipairs(entry.findings) do
    if not f.suppressed then
      if f.severity == "error" then errors = errors + 1 else warnings = warnings + 1 end
    end
  end
  local lock, r = strongest_lock(entry), entry.rehearsal
  return string.format("| %s | %d | %d | %s | %s | %s |", md(entry.name), errors, warnings,
    lock and md(lock) or "none", r and r.duration_ms and md(report.ms(r.duration_ms / 1000)
      .. (r.status == "failed" and " (failed)" or "")) or "not rehearsed",
    review.has_down(entry.down_sql) and "down.sql" or "none")
end

local function details(entry, env, say)
  say("### " .. md(entry.name))
  for _, f in ipairs(entry.findings) do
    if not f.suppressed then
      say(string.format("- **%s** `%s` line %s: %s", md(f.severity), md(f.rule), md(f.line), md(f.message)))
      if f.suggestion then say("  - safe recipe: " .. md(f.suggestion)) end
    end
  end
  for _, item in ipairs(entry.evidence) do
    if item.at_risk or item.unknown then say("- data at risk: " .. md(item.text)) end
  end
  local r = entry.rehearsal
  if r and r.status == "failed" then say("- " .. md(review.rehearsal_text(r, env))) end
  say("- rollback: " .. md(review.down_text(entry.down_sql)))
  say("")
end

local function clean_list(clean, say)
  if #clean == 0 then return end
  say(string.format("<details><summary>%d clean migration(s)</summary>", #clean))
  say("")
  for i, entry in ipairs(clean) do
    if i > CLEAN_LISTED then say(string.format("- and %d more", #clean - CLEAN_LISTED)); break end
    say("- " .. md(entry.name) .. (review.has_down(entry.down_sql) and "" or " (no down.sql)"))
  end
  say("")
  say("</details>")
  say("")
end

local function history(doc, say)
  if not doc.history.ok then say("**Applied migrations:** " .. md(doc.history.message)); say("") end
  for _, d in ipairs(doc.drift and doc.drift.differences or {}) do say("- drift: " .. md(d)) end
end

-- report_markdown.verify(doc) -> Markdown text (GitHub flavoured).
function report_markdown.verify(doc)
  local v = doc.verdict or review.verdict(doc)
  local lines = {}
  local function say(line) lines[#lines + 1] = line end
  say(string.format("## %s stallmig verify: %s on %s", v.ok and "✅" or "❌", v.ok and "PASS" or "FAIL",
    md(doc.environment)))
  say("")
  say(md(v.text))
  say("")
  local look, clean = {}, {}
  for _, entry in ipairs(doc.migrations) do
    if needs_look(entry) then look[#look + 1] = entry else clean[#clean + 1] = entry end
  end
  if #doc.migrations == 0 then say("Nothing to verify: " .. md(doc.environment) .. " has no pending migrations."); say("") end
  if #look > 0 then
    say("| migration | errors | warnings | strongest lock | rehearsal | rollback |")
    say("| --- | ---: | ---: | --- | --- | --- |")
    for i, entry in ipairs(look) do if i <= SHOWN then say(row(entry)) end end
    say("")
    for i, entry in ipairs(look) do if i <= SHOWN then details(entry, doc.environment, say) end end
    if #look > SHOWN then say(string.format("and %d more migration(s) that need a look: see the HTML report.", #look - SHOWN)); say("") end
  end
  clean_list(clean, say)
  history(doc, say)
  return table.concat(lines, "\n") .. "\n"
end

return report_markdown
