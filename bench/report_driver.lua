-- report_driver.lua — bench/reports.sh's driver: builds verify's document
-- for every migration of the project without a server (lint with each
-- statement's locks, no evidence, no rehearsal; each way --reps times),
-- then renders it --reps times as text (review.text, the floor), HTML and
-- Markdown. Prints
-- "<migrations> <statements> <lint_s> <lint_statements_s> <text_s> <html_s> <markdown_s> <html_bytes>".
local ctx = ...
local migrations = require("stallmig.migrations")
local lint = require("stallmig.lint")
local review = require("stallmig.review")
local report_html = require("stallmig.report_html")
local report_markdown = require("stallmig.report_markdown")
local json = require("stallmig.json")
local sys = require("stallmig.sys")

local reps = tonumber(ctx.options.reps or "3")
local found = migrations.discover(ctx.config)
local rules = lint.rules(ctx.config)

-- 1. lint alone (the floor of collecting statements), then with the list.
local function lint_all(collect)
  local state, statements, start = lint.context(), 0, sys.clock()
  local doc = review.new({ name = "bench", protected = false })
  for _, m in ipairs(found) do
    migrations.load(m, found)
    local list = collect and json.array() or nil
    local findings = lint.check(m, rules, state, list)
    local entry = review.add_migration(doc, m, findings, {}, { present = false, file = m.name .. "/down.sql" })
    entry.blocking, entry.statements = json.array(), list
    statements = statements + (list and #list or 0)
    migrations.release(m)
  end
  review.verdict(doc)
  return doc, statements, sys.clock() - start
end
local lint_s, with_s, doc, statements = math.huge, math.huge, nil, 0
-- alternated, in both orders (the second of a pair runs on a bigger heap),
-- each from a collected heap; the best of each
for rep = 1, 2 * reps do
  for _, collect in ipairs(rep % 2 == 1 and { false, true } or { true, false }) do
    doc = nil
    collectgarbage("collect")
    local d, n, t = lint_all(collect)
    if collect then doc, statements, with_s = d, n, math.min(with_s, t) else lint_s = math.min(lint_s, t) end
  end
end
doc, statements = lint_all(true)        -- the document to render (the last run may have dropped it)
collectgarbage("collect")

-- 2. each form, the best of reps
local function best(render)
  local t, out = math.huge, nil
  for _ = 1, reps do
    out = nil
    collectgarbage("collect")
    local start = sys.clock()
    out = render()
    t = math.min(t, sys.clock() - start)
  end
  return t, out
end
local text_s = best(function() local lines = {}; review.text(doc, function(l) lines[#lines + 1] = l end)
  return table.concat(lines, "\n") end)
local html_s, page = best(function() return report_html.verify(doc) end)
local md_s = best(function() return report_markdown.verify(doc) end)
print(string.format("%d %d %.6f %.6f %.6f %.6f %.6f %d", #found, statements, lint_s, with_s, text_s, html_s, md_s, #page))
