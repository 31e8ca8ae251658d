-- restore.lua — restore a backup: into a new database, or in place of the environment's (emergency rollback)
--
--   stallrun workflows/restore.lua --env prod                    # latest backup, into a new database
--   stallrun workflows/restore.lua --env prod --backup FILE --replace
--
-- By default nothing is touched: the backup goes into a new database on the
-- same server, to look at or to copy from. --replace drops the environment's
-- database and restores the backup in its place, after the environment's
-- name is typed (or --yes); then the status shows what the backup lacks.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local files = require("stallmig.files")
local guard = require("stallmig.guard")
local errors = require("stallmig.error")

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

-- 2a. Into a new database: nothing else is touched.
if not ctx.options.replace then
  local target = db.restore(env.name, path)
  print("Restored " .. path .. " into the new database " .. target .. " (" .. env.name .. "'s server).")
  return 0
end

-- 2b. In place: confirm, replace, then show what the backup lacks.
guard.preflight(env.name, "replace the database with a backup")
local conn = db.connect(env.name)
guard.confirm(conn, "drop " .. env.name .. "'s database and restore " .. path .. " in its place")
conn:replace_with_backup(path)
print("Replaced " .. env.name .. "'s database with " .. path .. ".")
local status = assert(loadfile(ctx.root .. "/workflows/status.lua", "t"))
return status(setmetatable({ options = {}, args = {} }, { __index = ctx }))
