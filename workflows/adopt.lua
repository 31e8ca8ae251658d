-- adopt.lua — take over a database Prisma Migrate (or a person) already migrated, without re-applying anything
--
--   stallrun workflows/adopt.lua --env prod --from prisma
--   stallrun workflows/adopt.lua --env prod --baseline 20240219083000_add_bookings
--
-- --from prisma reads _prisma_migrations and matches each finished row to a
-- folder by name and Prisma's checksum (the same SHA-256 stallmig keeps).
-- Every mismatch is listed, and then nothing is imported. --baseline marks
-- every migration up to the one named as applied without running it, for a
-- database created by hand; the history says it was a baseline.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local lock = require("stallmig.lock")
local guard = require("stallmig.guard")
local adopt = require("stallmig.adopt")
local errors = require("stallmig.error")

cli.check_options(ctx, { from = true, baseline = true })
local env = cli.require_env(ctx)
local from, baseline = ctx.options.from, ctx.options.baseline
if (from ~= "prisma") == (type(baseline) ~= "string") then
  error(errors.new("usage", "say what to adopt: --from prisma, or --baseline MIGRATION"), 0)
end

-- 1. Only a database with no stallmig history yet.
guard.preflight(env.name, "adopt the migration history")
local found = migrations.discover(ctx.config)
local conn <close> = db.connect(env.name)
lock.acquire(conn, env.lock_wait, function(text) io.stderr:write("warning: ", text, "\n") end)
if next(history.read(conn).latest) then
  error(errors.new("failed", env.name .. " already has a stallmig history; there is nothing to adopt",
    { hint = "stallrun workflows/status.lua --env " .. env.name }), 0)
end

-- 2. What to record: Prisma's rows, matched and checked, or a baseline.
local matches, how
if from == "prisma" then
  local problems
  matches, problems = adopt.from_prisma(conn, found)
  if #problems > 0 then
    error(errors.new("failed", #problems .. " row(s) of _prisma_migrations do not match the "
      .. "migrations folder; nothing was adopted:\n  " .. table.concat(problems, "\n  ")), 0)
  end
  how = "adopted from _prisma_migrations"
else
  matches = adopt.baseline(found, baseline)
  how = "baseline: recorded as applied without running it"
end

-- 3. Record them (confirmed on a protected environment).
guard.confirm(conn, "record " .. #matches .. " migration(s) as applied (" .. how .. ")")
conn:allow_writes("adopt: " .. #matches .. " migration(s), " .. how)
history.ensure(conn)
adopt.record(conn, env.name, matches, how)
lock.release(conn)
print(string.format("%s: %d migration(s) recorded as applied (%s).", env.name, #matches, how))
