-- stallmig.review — verify's report: per pending migration, the runbook's
-- four review questions answered with evidence, and a verdict. One document
-- (the same content for text, --json and --format github).
local json = require("stallmig.json")
local report = require("stallmig.report")
local evidence = require("stallmig.evidence")
local errors = require("stallmig.error")
local files = require("stallmig.files")
local deploy = require("stallmig.deploy")
local migrations = require("stallmig.migrations")

local review = {}

review.QUESTIONS = {
  data = "Does this migration preserve existing data?",
  breaking = "Are there any breaking changes?",
  rollback = "Is there a rollback plan?",
  volume = "Have we tested with production-like data volume?",
}

local STATE_TITLE = { modified = "edited applied migration", missing = "missing applied migration",
  failed = "failed migration left work behind" }
local STATE_SENTENCE = { modified = "was edited since it was applied",
  missing = "was applied but is missing from the migrations folder",
  failed = "failed earlier and may have left part of its work behind" }

local FORMATS = { text = true, github = true, html = true, markdown = true }
review.FILE_FORMATS = { html = true, markdown = true }   -- the ones --output can write

-- "text" (default), "github", "html" or "markdown"; --json is one more form.
-- --output FILE is for html and markdown (docs/reports.md).
function review.check_format(ctx)
  local format = ctx.options.format or "text"
  if not FORMATS[format] then
    error(errors.new("usage", "--format " .. tostring(format) .. ": expected text, github, html or markdown"), 0)
  end
  if format ~= "text" and ctx.json then
    error(errors.new("usage", "--json and --format " .. format .. " are two ways to print the report; choose one"), 0)
  end
  if ctx.options.output ~= nil and not review.FILE_FORMATS[format] then
    error(errors.new("usage", "--output writes the html or markdown report",
      { hint = "add --format html (a CI artifact) or --format markdown (a pull-request comment)" }), 0)
  end
  return format
end

function review.new(env)
  return { environment = env.name, protected = env.protected == true, migrations = json.array(),
    history = { ok = true, problems = json.array() } }
end

-- Applied migrations that were edited or deleted, or a failed one that left
-- work behind: errors, in deploy's words (its refusal).
function review.check_history(doc, plan, env)
  doc.history.applied = plan.counts.applied or 0
  for _, m in ipairs(plan.entries) do
    if STATE_TITLE[m.state] and (m.state ~= "failed" or m.row.partial) then
      doc.history.problems[#doc.history.problems + 1] = { name = m.name, state = m.state, file = m.file }
    end
  end
  local ok, refusal = pcall(deploy.check_plan, plan, env)
  if ok then return end
  if not errors.is(refusal) then error(refusal, 0) end
  doc.history.ok, doc.history.message, doc.history.hint = false, tostring(refusal.message), refusal.hint
end

-- The rollback plan: down.sql beside the migration. One that holds only
-- comments (the template, or a note that it cannot be undone) is empty:
-- no plan, as rollback.lua refuses to run it.
-- With keep_sql (verify's reports), its SQL too: the first DOWN_SHOWN bytes
-- in `sql`, `sql_cut` when there is more (the gate keeps none of it).
local DOWN_SHOWN = 4000

function review.down_sql(found, m, keep_sql)
  local path = found.dir .. "/" .. m.name .. "/down.sql"
  local down = { present = files.kind(path) == "file", file = found.rel .. m.name .. "/down.sql" }
  if down.present then
    local ok, text = pcall(files.read, path)
    down.empty = ok and migrations.holds_no_sql(text) or nil
    if ok and keep_sql and not down.empty then
      down.sql, down.sql_cut = text:sub(1, DOWN_SHOWN), #text > DOWN_SHOWN or nil
    end
  end
  return down
end

-- Is there a rollback plan to run (a down.sql with SQL in it)?
function review.has_down(down)
  return down.present and not down.empty
end

-- The finding for a migration.sql without a statement (deploy would apply
-- nothing and record it as applied).
function review.empty_finding(m)
  return { rule = "empty-migration", severity = "warning", file = m.file,
    message = "migration.sql holds no SQL statement, only comments: deploy would apply nothing and "
      .. "record it as applied",
    suggestion = "write the change in it, or delete the folder if the migration is not needed" }
end

function review.add_migration(doc, m, findings, items, down)
  local entry = { name = m.name, file = m.file, mode = m.mode, findings = json.array(),
    evidence = json.array(), down_sql = down }
  if m.empty then entry.findings[1] = review.empty_finding(m) end
  for _, f in ipairs(findings or {}) do entry.findings[#entry.findings + 1] = f end
  for _, item in ipairs(items or {}) do
    item.text = evidence.describe(item)
    entry.evidence[#entry.evidence + 1] = item
  end
  doc.migrations[#doc.migrations + 1] = entry
  return entry
end

-- The evidence action that measures each error-level rule's loss.
review.MEASURED_BY = {
  ["drop-table"] = "drop_table", ["drop-column"] = "drop_column", ["drop-schema"] = "drop_schema",
  truncate = "truncate", ["delete-without-where"] = "delete_all",
  ["update-without-where"] = "update_all", ["narrowing-type"] = "alter_type", ["drop-type"] = "drop_type",
  ["add-column-not-null"] = "add_required",
}

-- The deploy gate's judgement of one reviewed migration: the data it would
-- lose in this database, as sentences ({} when nothing). It judges the real
-- target, not a rule's name: an error-level finding counts when the
-- evidence of its statement shows data at risk (a DROP COLUMN over values),
-- or when nothing could measure it (a team's own error rule, a failed
-- look-up); a finding over a table that is not there or holds nothing does
-- not. A finding the file allows (-- stallmig:allow RULE: reason) never
-- counts. On a protected environment the gate refuses a migration with any.
function review.judge(entry)
  local out = {}
  for _, f in ipairs(entry.findings) do
    if f.severity == "error" and not f.suppressed then
      local action, measured, risk = review.MEASURED_BY[f.rule], false, nil
      for _, item in ipairs(entry.evidence) do
        if item.statement == f.statement and item.action == action then
          measured = true
          if item.at_risk or item.unknown then risk = risk or item end
        end
      end
      if risk then
        out[#out + 1] = risk.text
      elseif not measured then
        out[#out + 1] = string.format("%s (%s, line %s): nothing here can show it is harmless in this database, so it counts",
          f.message, f.rule, tostring(f.line))
      end
    end
  end
  return out
end

-- What change:rehearse() returned.
function review.set_rehearsal(doc, info, results, skipped)
  doc.rehearsal = info
  local by_name = {}
  for _, entry in ipairs(doc.migrations) do by_name[entry.name] = entry end
  for _, r in ipairs(results) do by_name[r.name].rehearsal = r end
  for _, s in ipairs(skipped) do
    by_name[s.name].rehearsal = { name = s.name, status = "not_rehearsed", reason = s.reason }
  end
end

-- What the warnings of the verdict are, in the order review.text shows
-- them; each is printed where it is found, labelled "warning".
review.WARNING_KINDS = {
  { key = "finding", text = "finding(s)" },
  { key = "no_down", text = "without a rollback plan (down.sql)" },
  { key = "unknown", text = "figure(s) the review could not read" },
}

-- Counts what was found; errors decide the exit status.
function review.verdict(doc)
  local v = { errors = #doc.history.problems > 0 and #doc.history.problems or (doc.history.ok and 0 or 1),
    warnings = 0, suppressed = 0 }
  local by = { finding = 0, no_down = 0, unknown = 0 }
  for _, entry in ipairs(doc.migrations) do
    for _, f in ipairs(entry.findings) do
      if f.suppressed then v.suppressed = v.suppressed + 1
      elseif f.severity == "error" then v.errors = v.errors + 1
      else by.finding = by.finding + 1 end
    end
    if not review.has_down(entry.down_sql) then by.no_down = by.no_down + 1 end
    for _, item in ipairs(entry.evidence) do
      if item.unknown then by.unknown = by.unknown + 1 end   -- a figure the review lacks
    end
    if entry.rehearsal and entry.rehearsal.status == "failed" then v.errors = v.errors + 1 end
  end
  local parts = {}
  for _, kind in ipairs(review.WARNING_KINDS) do
    v.warnings = v.warnings + by[kind.key]
    if by[kind.key] > 0 then parts[#parts + 1] = by[kind.key] .. " " .. kind.text end
  end
  v.warnings_from = #parts > 0 and table.concat(parts, ", ") or nil
  if doc.drift then v.errors = v.errors + #doc.drift.differences end
  v.ok = v.errors == 0
  v.text = string.format("Verdict: %s: %d error(s), %d warning(s), %d suppressed%s", v.ok and "PASS" or "FAIL",
    v.errors, v.warnings, v.suppressed, v.ok and (" (" .. doc.environment .. ")")
      or (" (" .. doc.environment .. "): fix the errors before deploying"))
  doc.verdict = v
  return v
end

-- ---- text ----------------------------------------------------------------

function review.rehearsal_text(r, env)
  if not r then return "not rehearsed (verify --rehearse runs it on " .. env .. " and rolls back)" end
  if r.status == "not_rehearsed" then return "not rehearsed: " .. r.reason end
  if r.status == "failed" then
    return "FAILED in the rehearsal after " .. report.ms(r.duration_ms / 1000) .. ": " .. r.error.message
  end
  return string.format("rehearsed on %s: %s, %d row(s) inserted, %d updated, %d deleted (rolled back)",
    env, report.ms(r.duration_ms / 1000), r.rows.inserted, r.rows.updated, r.rows.deleted)
end

function review.down_text(down)
  if down.empty then
    return "down.sql holds only comments (" .. down.file .. "): no rollback plan, rollback.lua refuses "
      .. "it; write the SQL that undoes the migration, or undo with a new, corrective migration"
  end
  if down.present then return "down.sql present (" .. down.file .. ")" end
  return "no down.sql: undo with a new, corrective migration, or restore the backup taken before deploy"
end

local function where(f)
  return tostring(f.file) .. (f.line and (":" .. f.line .. (f.column and (":" .. f.column) or "")) or "")
end

local function finding_lines(f, say)
  if f.suppressed then
    say(string.format("      suppressed  %s  %s  %s", where(f), f.rule, f.message))
    say("                  reason: " .. f.suppressed)
    return
  end
  say(string.format("      %-10s  %s  %s  %s", f.severity, where(f), f.rule, f.message))
  if f.suggestion then say("                  suggestion: " .. f.suggestion) end
  if f.recipe then say("                  recipe: " .. f.recipe) end
end

local function migration_text(entry, env, say)   -- env: {name, protected}
  say(entry.name .. " (" .. entry.file .. ", " .. entry.mode .. ")")
  say("  " .. review.QUESTIONS.data)
  if #entry.evidence == 0 then say("      nothing in it discards or rewrites existing rows") end
  for _, item in ipairs(entry.evidence) do
    say("      " .. (item.unknown and string.format("%-10s  ", "warning") or "") .. item.text)
  end
  if entry.blocking and #entry.blocking > 0 then
    say(string.format("      deploy %s it on %s%s: data would be lost here (allow it in the file with a reason, "
      .. "or --accept-data-loss)", env.protected and "refuses" or "would refuse", env.name,
      env.protected and "" or " if it were protected"))
  end
  say("  " .. review.QUESTIONS.breaking)
  if #entry.findings == 0 then say("      no lint findings") end
  for _, f in ipairs(entry.findings) do finding_lines(f, say) end
  say("  " .. review.QUESTIONS.rollback)
  say("      " .. (review.has_down(entry.down_sql) and "" or string.format("%-10s  ", "warning"))
    .. review.down_text(entry.down_sql))
  say("  " .. review.QUESTIONS.volume)
  say("      " .. review.rehearsal_text(entry.rehearsal, env.name))
  say("")
end

function review.text(doc, say)
  say(string.format("Verifying %d pending migration(s) against %s%s:", #doc.migrations, doc.environment,
    doc.rehearsal and " (rehearsed in one transaction, rolled back)" or " (read-only)"))
  say("")
  if #doc.migrations == 0 then say("Nothing to verify: " .. doc.environment .. " has no pending migrations.") end
  local env = { name = doc.environment, protected = doc.protected }
  for _, entry in ipairs(doc.migrations) do migration_text(entry, env, say) end
  if doc.history.ok then
    say("Applied migrations: " .. (doc.history.applied or 0) .. ", none edited or missing.")
  else
    say("Applied migrations: " .. doc.history.message)
    if doc.history.hint then say("  hint: " .. doc.history.hint) end
  end
  if not doc.drift then
    say("Drift: not checked (--drift replays the applied migrations on a shadow database).")
  elseif #doc.drift.differences == 0 then
    say("Drift: none, the schema matches the applied migrations.")
  else
    say("Drift: " .. #doc.drift.differences .. " difference(s):")
    for _, d in ipairs(doc.drift.differences) do say("  " .. d) end
  end
  local c = doc.compatibility
  if c and c.compatible and #c.same_release == 0 and #doc.migrations > 0 then
    say("Compatibility: the schema stays usable by the running version until the contract phase.")
  elseif c and #doc.migrations > 0 then
    say("Compatibility: the running version would break while these deploy:")
    for _, line in ipairs(c.breaking) do say("  " .. line) end
    for _, line in ipairs(c.same_release) do say("  " .. line) end
  end
  if doc.rehearsal and doc.rehearsal.audited then
    say("The rehearsal on protected " .. doc.environment .. " was recorded in stallmig.audit.")
  end
  if doc.verdict.warnings_from then say("Warnings: " .. doc.verdict.warnings_from .. " (marked above).") end
  say(doc.verdict.text)
end

-- ---- GitHub Actions workflow commands ------------------------------------

local function escape_data(s)
  return (tostring(s):gsub("%%", "%%25"):gsub("\r", "%%0D"):gsub("\n", "%%0A"))
end

local function escape_property(s)
  return (escape_data(s):gsub(":", "%%3A"):gsub(",", "%%2C"))
end

-- "::error file=F,line=L,col=C,title=T::message"
function review.annotation(level, props, message)
  local parts = {}
  for _, key in ipairs({ "file", "line", "col", "title" }) do
    if props[key] ~= nil then parts[#parts + 1] = key .. "=" .. escape_property(props[key]) end
  end
  return "::" .. level .. (#parts > 0 and (" " .. table.concat(parts, ",")) or "") .. "::" .. escape_data(message)
end

local function finding_annotation(f)
  local props = { file = f.file, line = f.line, col = f.column, title = f.rule }
  if f.suppressed then
    props.title = f.rule .. " (suppressed)"
    return review.annotation("notice", props, f.message .. "\nsuppressed: " .. f.suppressed)
  end
  return review.annotation(f.severity == "error" and "error" or "warning", props,
    f.message .. (f.suggestion and ("\nsuggestion: " .. f.suggestion) or ""))
end

local function migration_annotations(entry, env, say)
  for _, f in ipairs(entry.findings) do say(finding_annotation(f)) end
  for _, item in ipairs(entry.evidence) do       -- a figure it could not read counts as a warning
    say(review.annotation(item.unknown and "warning" or "notice", { file = entry.file, line = item.line,
      title = "data" }, item.text))
  end
  if not review.has_down(entry.down_sql) then
    say(review.annotation("warning", { file = entry.file, title = "no rollback plan" }, review.down_text(entry.down_sql)))
  end
  local r = entry.rehearsal
  if r then
    say(review.annotation(r.status == "failed" and "error" or "notice",
      { file = entry.file, line = r.error and r.error.line, title = "rehearsal" }, review.rehearsal_text(r, env)))
  end
end

function review.github(doc, say)
  for _, entry in ipairs(doc.migrations) do migration_annotations(entry, doc.environment, say) end
  for _, p in ipairs(doc.history.problems) do
    say(review.annotation("error", { file = p.file, title = STATE_TITLE[p.state] }, p.name .. " "
      .. STATE_SENTENCE[p.state] .. (doc.history.hint and ("\nhint: " .. doc.history.hint) or "")))
  end
  for _, d in ipairs(doc.drift and doc.drift.differences or {}) do
    say(review.annotation("error", { title = "drift" }, doc.environment .. ": " .. d))
  end
  say(doc.verdict.text)
end

-- Puts the document in out (--json) or prints it; html and markdown go
-- to stdout, or into `file` (artifact.open). Returns the exit status.
function review.emit(out, doc, format, file)
  local v = doc.verdict or review.verdict(doc)
  for key, value in pairs(doc) do out:set(key, value) end
  out:set("pending", #doc.migrations)
  out:set("ok", v.ok)
  local say = function(line) out:say(line) end
  if format == "html" then
    require("stallmig.artifact").deliver(out, require("stallmig.report_html").verify(doc, out.doc.warnings),
      file, v.text)
  elseif format == "markdown" then
    require("stallmig.artifact").deliver(out, require("stallmig.report_markdown").verify(doc), file, v.text)
  elseif format == "github" then review.github(doc, say) else review.text(doc, say) end
  return v.ok and 0 or 1
end

return review
