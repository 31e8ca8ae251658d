-- restore.lua — restore a backup: into a new database, or in place of the environment's (emergency rollback)
--
--   stallrun workflows/restore.lua --env prod                    # latest backup, into a new database
--   stallrun workflows/restore.lua --env prod --backup FILE --replace
--
-- By default the environment's database is not touched: the backup goes
-- into a new database on the same server, to look at or to copy from (on a
-- protected environment after its name is typed, or --yes). --replace puts
-- the backup in the database's place. The host refuses a backup older than
-- the newest applied migration unless --backup names that very file, asks
-- for the environment's name (or --yes), backs up what it replaces, restores
-- into a new database and swaps it in by rename, keeping the old one; then
-- the status shows what the backup lacks.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local files = require("stallmig.files")
local guard = require("stallmig.guard")
local errors = require("stallmig.error")
local migrations = require("stallmig.migrations")
local report = require("stallmig.report")
local status = require("stallmig.status")

return report.run(ctx, "restore", function(out)
  cli.check_options(ctx, { backup = true, replace = true })
  local env = cli.require_env(ctx)

  -- 1. Which backup: the one named, or the newest of this environment.
  local path = ctx.options.backup
  if type(path) ~= "string" then
    local dir = ctx.config.backups .. "/" .. env.name
    for _, e in ipairs(files.kind(dir) == "dir" and files.list(dir) or {}) do
      if e.name:match("%.dump$") then path = dir .. "/" .. e.name end   -- names sort by time
    end
    if type(path) ~= "string" then
      error(errors.new("failed", "no backup of " .. env.name .. " in " .. dir,
        { hint = "name one with --backup FILE" }), 0)
    end
  end

  -- 2. What it holds, shown before anyone is asked.
  local b = db.describe_backup(env.name, path)
  out:set("backup", b)
  out:say("Backup " .. migrations.display_path(ctx.config, b.path) .. ":")
  out:say("  taken " .. b.taken_at .. " (" .. b.age .. " ago)" .. (b.recorded and "" or ", by the file's time"))
  out:say("  last migration applied then: " .. (b.last_migration or "unknown"))
  if b.stale then
    out:say("  older than " .. env.name .. "'s newest migration, " .. b.newest_migration
      .. " (applied " .. b.newest_at .. ")")
  end

  -- 3a. Into a new database: the environment's own is not touched.
  if not ctx.options.replace then
    local target, drop = db.restore(env.name, path)
    out:set("database", target)
    out:set("drop", drop)
    out:say("Restored " .. path .. " into the new database " .. target .. " (" .. env.name .. "'s server).")
    out:say("When it is no longer needed: " .. drop)
    return 0
  end

  -- 3b. In place, then show what the backup lacks.
  guard.preflight(env.name, "replace the database with a backup")
  local conn = db.connect(env.name)
  local done = conn:replace_with_backup(path)
  out:set("replaced", done)
  out:say("Replaced " .. env.name .. "'s database with " .. path .. ".")
  out:say("  What it replaced was backed up to " .. migrations.display_path(ctx.config, done.before))
  out:say("  and kept as the database " .. done.kept .. "; when it is no longer needed: " .. done.drop_kept)
  local st = status.run(ctx, env.name)
  out:set("status", st)
  for _, m in ipairs(st.migrations) do out:say(string.format("  %-50s %s", m.name, m.state)) end
  local c = st.counts
  out:say(string.format("%s now: %d applied, %d pending, %d failed, %d modified, %d missing.",
    env.name, c.applied, c.pending, c.failed, c.modified, c.missing))
  return st.up_to_date and 0 or 1
end)
