-- create.lua — start a new migration with a descriptive name (prisma migrate dev --create-only)
--
--   stallrun workflows/create.lua --name add-user-profile-fields
--   stallrun workflows/create.lua --name add-stall-photos --from-diff --env dev
--
-- Writes migrations/<UTC timestamp>_add_user_profile_fields/migration.sql
-- and down.sql templates. Touches no database's data: --from-diff only reads
-- the dev database (and replays the history on a shadow database) to fill
-- migration.sql with what was prototyped there, e.g. with push.lua.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local create = require("stallmig.create")
local drift = require("stallmig.drift")
local schemasql = require("stallmig.schemasql")
local files = require("stallmig.files")
local guard = require("stallmig.guard")
local sys = require("stallmig.sys")

cli.check_options(ctx, { name = true, ["from-diff"] = true })

-- 1. The existing folders: the name must be new (a bad or taken one fails
--    before anything connects), and the timestamp sorts after all of them.
local found = {}
if files.kind(ctx.config.migrations) == "dir" then found = migrations.discover(ctx.config) end
create.check_name(ctx.options.name, found)

-- 2. With --from-diff: the SQL from the history's schema to the database's.
local body, notes = nil, {}
if ctx.options["from-diff"] then
  -- capturing a prototype is dev-only work: the host refuses a protected
  -- environment (a migration is written from dev's schema, never prod's)
  local env = cli.require_env(ctx)
  guard.dev_only(env.name)
  local conn <close> = db.connect(env.name)
  guard.dev_only(conn)
  -- from what the migrations make, pending ones included: what a pending
  -- migration already captured is not captured twice
  local plan = migrations.plan(found, history.read(conn))
  local _, target, made, err = drift.snapshots(conn, env, found, plan, { pending = true })
  if not made then error(err, 0) end
  body, notes = schemasql.generate(made, target)
  if body == "" and #notes == 0 then
    print("Nothing to capture: " .. env.name .. " matches its migrations" .. (#plan.pending > 0
      and (", the " .. #plan.pending .. " pending one(s) included") or "") .. "; no migration created.")
    return 0
  end
  for _, n in ipairs(notes) do body = body .. "-- not expressed, write it by hand: " .. n .. "\n" end
end

-- 3. The folder and its two templates.
local dir = create.folder(ctx.config, found, ctx.options.name, body)
local shown = migrations.display_path(ctx.config, dir)
print("Created " .. shown .. "/migration.sql" .. (body and " from the difference" or ""))
print("    and " .. shown .. "/down.sql (the rollback plan)")
for _, n in ipairs(notes) do print("  not expressed (write it by hand): " .. n) end

-- 4. Empty migrations: deploy applies one as it is, and writing into it
--    afterwards is an edit of an applied migration.
for _, m in ipairs(found) do
  if migrations.is_empty(m, found) then
    sys.warn(migrations.empty_warning(m, found))
  end
end
if not body or migrations.holds_no_sql(body) then
  print("Its migration.sql holds only comments so far: write the change in it (and the SQL that undoes it")
  print("in down.sql) before applying it; an empty migration would be applied as it is.")
end
print((body and "Review it" or "Write it") .. ", then: stallrun workflows/dev.lua --env dev")
