-- push.lua — apply a SQL file straight to the dev database, unrecorded, for prototyping (prisma db push)
--
--   stallrun workflows/push.lua --env dev --file schema.sql
--
-- Nothing is recorded as a migration: capture the change in one with
-- workflows/create.lua before it goes anywhere else. The host refuses this on
-- protected environments and on any database whose identity is in doubt.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local files = require("stallmig.files")
local errors = require("stallmig.error")
local guard = require("stallmig.guard")

cli.check_options(ctx, { file = true })
local env = cli.require_env(ctx)
local path = ctx.options.file
if type(path) ~= "string" then
  error(errors.new("usage", "--file FILE is required (the SQL to push)"), 0)
end

-- 1. Read the file first: nothing is sent if it cannot be read. A file
--    given on the command line that cannot be read is a usage error (exit 2).
local ok, sql = pcall(files.read, path)
if not ok then
  if errors.is(sql) and sql.kind == "io" then
    sql.kind = "usage"
    sql.hint = sql.hint or "--file takes the path of a readable SQL file, relative to the current directory"
  end
  error(sql, 0)
end

-- 2. Push it: dev-only work, which the host refuses on a protected
--    environment and on any database whose identity is in doubt.
guard.dev_only(env.name)
local conn <close> = db.connect(env.name)
conn:push(sql)
print("Pushed " .. path .. " to " .. env.name .. " (not recorded as a migration).")
