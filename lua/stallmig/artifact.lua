-- stallmig.artifact — a report written to a file (a CI artifact) all or
-- nothing: the text goes to a temporary file beside the target, which is
-- then renamed over it, so a reader never sees half a report and a failed
-- write leaves the old file (or none) in place.
--
--   local file = artifact.open(ctx.options.output)   -- checked before the work starts
--   file:write(text)                                 -- at the end, all at once
local files = require("stallmig.files")
local errors = require("stallmig.error")
local sys = require("stallmig.sys")

local artifact = {}

local Writer = {}
Writer.__index = Writer

local function message_of(e)
  return errors.is(e) and tostring(e.message) or tostring(e)
end

local function temp_name(path)
  return string.format("%s.tmp-%s-%d", path, sys.utc_timestamp(), math.random(1, 999999999))
end

-- artifact.open(path) -> writer: checks now, before any work, that a file
-- can be created at path (its folder exists and is writable, path is not a
-- folder); raises kind `usage` naming the path otherwise. Nothing is left
-- behind by the check.
function artifact.open(path)
  if type(path) ~= "string" or path == "" then
    error(errors.new("usage", "--output needs a file name", { hint = "--output report.html" }), 0)
  end
  if files.kind(path) == "dir" then
    error(errors.new("usage", "--output " .. path .. " is a folder, not a file",
      { hint = "name the file to write, e.g. --output " .. path .. "/report.html" }), 0)
  end
  local probe = temp_name(path)
  local ok, e = pcall(files.create, probe, "")
  if not ok then
    error(errors.new("usage", "--output " .. path .. ": " .. message_of(e),
      { hint = "write the report into a folder that exists and that you can write to" }), 0)
  end
  files.remove(probe)
  return setmetatable({ path = path }, Writer)
end

-- writer:write(text): the whole report at once, replacing the file. On a
-- failure (disk full) raises kind `io`; the target is left as it was.
-- Passwords are redacted from the text as from everything stallrun prints.
function Writer:write(text)
  local tmp = temp_name(self.path)
  files.create(tmp, sys.redact(text))     -- no password reaches a file; a half-written one is removed
  local ok, why = os.rename(tmp, self.path)
  if not ok then
    pcall(files.remove, tmp)
    error(errors.new("io", "cannot write the report to " .. self.path .. ": " .. tostring(why),
      { file = self.path, hint = "check the path and the free space, then run again" }), 0)
  end
end

-- artifact.deliver(out, text, file, line): the report on stdout (through
-- out:say), or, with a writer from artifact.open, into its file and `line`
-- (the verdict) on stdout with where the report went.
function artifact.deliver(out, text, file, line)
  if not file then
    out:say((text:gsub("\n$", "")))
    return
  end
  file:write(text)
  out:say(line .. " (report written to " .. file.path .. ")")
end

return artifact
