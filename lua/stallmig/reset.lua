-- stallmig.reset — drop and recreate a disposable database, apply every
-- migration, seed it. Dev-only work: the host refuses it on anything but an
-- environment with protected = false whose database is beyond doubt its own.
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local guard = require("stallmig.guard")
local deploy = require("stallmig.deploy")
local seed = require("stallmig.seed")
local json = require("stallmig.json")

local reset = {}

-- Returns the row counts per table after seeding (seed = false skips it).
function reset.run(ctx, env, out, with_seed)
  guard.dev_only(env.name)

  -- 1. Read and parse every migration before anything is dropped (the gate
  --    reads each again as it applies it).
  local found, warnings = migrations.discover(ctx.config)
  for _, w in ipairs(warnings) do out:warn(w) end
  for _, m in ipairs(found) do migrations.classify(m, found) end

  -- 2. Drop and recreate (ending other sessions); a missing database is created.
  local ok, old = pcall(db.connect, env.name)
  if ok then
    old:recreate_database()
  elseif type(old) == "table" and tostring(old.message):match("does not exist") then
    db.create_database(env.name)
  else
    error(old, 0)
  end
  out:say("Reset " .. env.name .. ": the database is empty.")

  -- 3. Apply every migration, through the change gate like any deploy.
  local conn <close> = db.connect(env.name)
  local change <close> = conn:begin_change("reset")
  local plan = change:plan()
  if not out.doc.applied then out:set("applied", json.array()) end
  if #plan.pending > 0 then
    out:say("Applying " .. #plan.pending .. " migration(s):")
    deploy.apply_pending(change, out, plan)
  end
  change:close()

  -- 4. Seed.
  if with_seed and ctx.config.seed then
    seed.run(conn, ctx)
    out:say("Seeded from " .. migrations.display_path(ctx.config, ctx.config.seed) .. ".")
  end
  return seed.row_counts(conn)
end

return reset
