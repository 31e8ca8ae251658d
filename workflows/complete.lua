-- complete.lua — run the contract phase of expanded migrations (zero downtime)
--
--   stallrun workflows/complete.lua --env prod --rollout-confirmed [--yes]
--
-- deploy ran each phased migration's expand and backfill; the previous
-- application version kept working. Once the new version runs everywhere,
-- this runs each expanded migration's -- stallmig:contract section, in
-- order, and records it as applied (docs/zero-downtime.md). The host's
-- change gate refuses it without --rollout-confirmed and, with
-- promote_from, before that environment completed it; it asks for
-- confirmation on a protected environment and backs up first where
-- backup = true.
local ctx = ...
local cli = require("stallmig.cli")
local session = require("stallmig.session")
local report = require("stallmig.report")
local json = require("stallmig.json")

return report.run(ctx, "complete", function(out)
  cli.check_options(ctx, { ["rollout-confirmed"] = true })
  local env = cli.require_env(ctx)
  local s <close> = session.open(ctx, { change = "complete", confirm = "complete expanded migrations" })
  local change = s.change
  out:set("environment", env.name)
  out:set("completed", json.array())

  -- 1. What is expanded and not yet contracted.
  local expanded = change:expanded()
  if #expanded == 0 then
    out:say("Nothing to complete on " .. env.name .. ": no migration is expanded.")
    return 0
  end

  -- 2. Refused before anyone is asked: no confirmed rollout, or
  --    promote_from's environment has not completed them.
  for _, m in ipairs(expanded) do change:check_complete(m.name) end

  -- 3. Confirm, and back up first where backup = true.
  change:confirm("complete " .. #expanded .. " expanded migration(s)")
  local b = change:backup()
  if b then out:say(string.format("Backed up %s to %s (%d bytes, verified).", env.name, b.file, b.size)) end

  -- 4. Each contract, in order (the gate runs and records it).
  for _, m in ipairs(expanded) do
    local r = change:complete(m.name)
    table.insert(out.doc.completed, m.name)
    out:say(string.format("  + %s completed (%s, %.0f ms)", m.name, r.mode, r.duration_ms))
  end
  out:say(string.format("Completed %d migration(s) on %s.", #expanded, env.name))
  return 0
end)
