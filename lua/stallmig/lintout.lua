-- stallmig.lintout — the offline lint's findings as text, one JSON document
-- (--json), GitHub annotations (--format github) or SARIF 2.1.0 (--format
-- sarif, what code-scanning tools read).
local json = require("stallmig.json")
local review = require("stallmig.review")
local errors = require("stallmig.error")

local M = {}

M.FORMATS = { text = true, github = true, sarif = true }

-- "text", "github" or "sarif"; --json is a fourth form and excludes the others.
function M.check_format(ctx)
  local format = ctx.options.format or "text"
  if not M.FORMATS[format] then
    error(errors.new("usage", "--format " .. tostring(format) .. ": expected text, github or sarif"), 0)
  end
  if format ~= "text" and ctx.json then
    error(errors.new("usage", "--json and --format " .. format .. " are two ways to print the findings; choose one"), 0)
  end
  return format
end

-- A finding as the documents show it (suppressed: false or the reason).
function M.record(f)
  return { file = f.file, line = f.line, column = f.column, rule = f.rule, severity = f.severity,
    message = f.message, suggestion = f.suggestion, suppressed = f.suppressed or false }
end

function M.summary(files, n)
  return string.format("lint: %d file(s), %d error(s), %d warning(s), %d suppressed", files, n.error, n.warning,
    n.suppressed)
end

function M.text(findings, say)
  for _, f in ipairs(findings) do
    say(string.format("%s:%d:%d: %s %s: %s%s", f.file, f.line, f.column, f.severity, f.rule, f.message,
      f.suppressed and (" [allowed: " .. f.suppressed .. "]") or ""))
  end
end

function M.github(findings, say)
  for _, f in ipairs(findings) do
    local props = { file = f.file, line = f.line, col = f.column, title = f.rule }
    if f.suppressed then
      props.title = f.rule .. " (suppressed)"
      say(review.annotation("notice", props, f.message .. "\nsuppressed: " .. f.suppressed))
    else
      say(review.annotation(f.severity, props, f.message .. "\nsuggestion: " .. f.suggestion))
    end
  end
end

local function sarif_rules(rules)
  local out = json.array()
  for _, r in ipairs(rules) do
    out[#out + 1] = { id = r.id, shortDescription = { text = r.explanation }, help = { text = r.suggestion },
      defaultConfiguration = { level = r.severity } }
  end
  return out
end

local function sarif_result(f)
  local r = { ruleId = f.rule, level = f.severity == "error" and "error" or "warning",
    message = { text = f.message .. "\nsuggestion: " .. f.suggestion },
    locations = { { physicalLocation = { artifactLocation = { uri = f.file },
      region = { startLine = f.line, startColumn = f.column } } } } }
  if f.suppressed then r.suppressions = { { kind = "inSource", justification = f.suppressed } } end
  return r
end

-- One SARIF 2.1.0 log: the rules that ran (built-in, the allow-* ones and the
-- team's) and a result per finding; a suppressed one carries its reason.
function M.sarif(findings, rules, extra_rules)
  local all = {}
  for _, r in ipairs(rules) do all[#all + 1] = r end
  for _, r in ipairs(extra_rules) do all[#all + 1] = r end
  local results = json.array()
  for _, f in ipairs(findings) do results[#results + 1] = sarif_result(f) end
  return {
    ["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json", version = "2.1.0",
    runs = { { tool = { driver = { name = "stallmig", rules = sarif_rules(all) } }, results = results } },
  }
end

return M
