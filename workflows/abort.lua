-- abort.lua — undo the expand of a migration that was not completed
--
--   stallrun workflows/abort.lua --env staging [--yes]                  # the newest expanded
--   stallrun workflows/abort.lua --env staging --migration NAME [--yes]
--
-- The way back while the previous application version still runs: the
-- -- stallmig:down section of an expanded migration undoes its expand, and
-- the migration is recorded as rolled back, so the next deploy expands it
-- again (docs/zero-downtime.md). The host's change gate asks for
-- confirmation on a protected environment and backs up first where
-- backup = true.
local ctx = ...
local cli = require("stallmig.cli")
local session = require("stallmig.session")
local report = require("stallmig.report")
local errors = require("stallmig.error")

return report.run(ctx, "abort", function(out)
  cli.check_options(ctx, { migration = true })
  local env = cli.require_env(ctx)
  local s <close> = session.open(ctx, { change = "abort", confirm = "abort an expanded migration" })
  local change = s.change
  out:set("environment", env.name)

  -- 1. Which one: the one named, or the newest expanded.
  local expanded = change:expanded()
  local name = ctx.options.migration
  if name == nil and #expanded == 0 then
    out:say("Nothing to abort on " .. env.name .. ": no migration is expanded.")
    return 0
  end
  if name ~= nil and type(name) ~= "string" then
    error(errors.new("usage", "--migration takes a migration's folder name"), 0)
  end
  name = name or expanded[#expanded].name

  -- 2. Confirm, back up, then the down section (the gate runs and records it).
  change:confirm("abort " .. name)
  local b = change:backup()
  if b then out:say(string.format("Backed up %s to %s (%d bytes, verified).", env.name, b.file, b.size)) end
  change:abort(name)
  out:set("aborted", name)
  out:say(string.format("Aborted %s on %s: its expand is undone; deploy expands it again.", name, env.name))
  return 0
end)
