-- adopt.lua — take over a database Prisma Migrate (or a person) already migrated, without re-applying anything
--
--   stallrun workflows/adopt.lua --env prod --from prisma
--   stallrun workflows/adopt.lua --env prod --baseline 20240219083000_add_bookings
--   stallrun workflows/adopt.lua --env prod --baseline none
--
-- --from prisma reads _prisma_migrations and matches each finished row to a
-- folder by name and Prisma's checksum (the same SHA-256 stallmig keeps).
-- Every mismatch is listed, and then nothing is imported. --baseline marks
-- every migration up to the one named as applied without running it, for a
-- database created by hand; the history says it was a baseline. --baseline
-- none records nothing: none of the migrations is in the database yet, and
-- the first deploy may apply them all over the schema that is already there
-- (without it, deploy refuses a database that holds a schema of its own).
local ctx = ...
local cli = require("stallmig.cli")
local session = require("stallmig.session")
local report = require("stallmig.report")
local errors = require("stallmig.error")

return report.run(ctx, "adopt", function(out)
  cli.check_options(ctx, { from = true, baseline = true })
  local env = cli.require_env(ctx)
  local from, baseline = ctx.options.from, ctx.options.baseline
  if (from ~= "prisma") == (type(baseline) ~= "string") then
    error(errors.new("usage", "say what to adopt: --from prisma, or --baseline MIGRATION"), 0)
  end

  -- 1. The change: the host takes the deploy lock and reads the history
  --    (a database with a stallmig history has nothing to adopt).
  local s <close> = session.open(ctx, { env = env.name, change = "adopt", confirm = "adopt the migration history" })

  -- 2. Record Prisma's rows (matched and checked) or the baseline, after
  --    confirmation on a protected environment.
  local how = from == "prisma" and "adopted from _prisma_migrations" or "baseline: recorded as applied without running it"
  s.change:confirm("record migrations as applied without running them (" .. how .. ")")
  local count = s.change:adopt(from == "prisma" and { from = "prisma" } or { baseline = baseline })
  out:set("recorded", count)
  out:set("how", how)
  out:say(string.format("%s: %d migration(s) recorded as applied (%s).", env.name, count, how))
  return 0
end)
