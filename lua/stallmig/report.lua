-- stallmig.report — what a workflow tells the user: aligned progress lines
-- at a terminal (Sqitch style), or one JSON document with --json.
local sys = require("stallmig.sys")
local json = require("stallmig.json")

local report = {}
report.__index = report

function report.new(ctx, workflow)
  return setmetatable({
    json = ctx.json,
    doc = { workflow = workflow, environment = ctx.env, warnings = json.array() },
    width = 40,
  }, report)
end

-- A report that prints nothing (a library call a script makes without
-- asking for output): lines are dropped, warnings kept in doc.warnings.
function report.quiet(workflow, environment)
  return setmetatable({
    silent = true,
    doc = { workflow = workflow, environment = environment, warnings = json.array() },
    width = 40,
  }, report)
end

-- A part of this report with a document of its own, kept in doc[key] (a
-- release script's "staging" and "prod"): it prints as this one does, and
-- its warnings are also this one's.
function report:section(key)
  local child = setmetatable({
    json = self.json, silent = self.silent, parent = self,
    doc = { warnings = json.array() }, width = self.width,
  }, report)
  self.doc[key] = child.doc
  return child
end

-- A line for people; with --json it goes nowhere (stdout holds the JSON).
function report:say(text)
  if not self.json and not self.silent then sys.out(text, "\n") end
end

function report:warn(text)
  local r = self
  while r do
    r.doc.warnings[#r.doc.warnings + 1] = text
    r = r.parent
  end
  if not self.silent then sys.warn(text) end
end

function report:set(key, value)
  self.doc[key] = value
end

function report:set_width(names)
  for _, name in ipairs(names) do
    if #name + 4 > self.width then self.width = math.min(#name + 4, 80) end
  end
end

-- "  + 20240101000000_init ........ ok (12 ms)"
function report:step(sign, name, outcome)
  local dots = self.width - #name
  self:say(string.format("  %s %s %s %s", sign, name, string.rep(".", dots > 1 and dots or 1), outcome))
end

function report.ms(seconds)
  if seconds < 0.01 then return string.format("%.1f ms", seconds * 1000) end
  if seconds < 10 then return string.format("%.0f ms", seconds * 1000) end
  return string.format("%.1f s", seconds)
end

-- Runs body(out) and always finishes the JSON document, also on failure;
-- then re-raises, so the host prints the error and picks the exit status.
function report.run(ctx, workflow, body)
  local out = report.new(ctx, workflow)
  local ok, result = xpcall(body, function(e)
    if type(e) == "table" then return e end
    return debug.traceback(tostring(e), 2)
  end, out)
  if not ok then
    out.doc.ok = false
    out.doc.error = type(result) == "table" and {
      kind = result.kind, message = sys.redact(tostring(result.message)), hint = result.hint,
      sqlstate = result.sqlstate, migration = result.migration, file = result.failed_file or result.file,
      line = result.failed_line or result.line, column = result.column, statement = result.statement,
    } or { kind = "runtime", message = sys.redact(tostring(result)) }
  elseif out.doc.ok == nil then
    out.doc.ok = result == nil or result == 0 or result == true
  end
  if out.json then sys.out(json.encode(out.doc), "\n") end
  if not ok then error(result, 0) end
  return result
end

return report
