-- reset.lua — drop and recreate the dev database, apply every migration, seed it (prisma migrate reset)
--
--   stallrun workflows/reset.lua --env dev [--no-seed]
--
-- Only for an environment with protected = false whose database is beyond
-- doubt its own: the host refuses everything else (exit 3), whatever this
-- script says.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local deploy = require("stallmig.deploy")
local seed = require("stallmig.seed")
local report = require("stallmig.report")
local json = require("stallmig.json")

return report.run(ctx, "reset", function(out)
  cli.check_options(ctx, { ["no-seed"] = true })
  local env = cli.require_env(ctx)

  -- 1. Read and parse every migration before anything is dropped.
  local found, warnings = migrations.discover(ctx.config)
  for _, w in ipairs(warnings) do out:warn(w) end
  for _, m in ipairs(found) do migrations.load(m, found) end

  -- 2. Drop and recreate the database (ending its other sessions); a
  --    database that does not exist yet is simply created.
  local ok, old = pcall(db.connect, env.name)
  if ok then
    old:recreate_database()
  elseif type(old) == "table" and tostring(old.message):match("does not exist") then
    db.create_database(env.name)
  else
    error(old, 0)
  end
  out:say("Reset " .. env.name .. ": the database is empty.")

  -- 3. Apply every migration to the empty database.
  local conn <close> = db.connect(env.name)
  conn:allow_writes("reset: apply every migration and seed")
  history.ensure(conn)
  local plan = migrations.plan(found, history.read(conn))
  out:set("applied", json.array())
  if #plan.pending > 0 then
    out:say("Applying " .. #plan.pending .. " migration(s):")
    deploy.apply_pending(conn, env, out, plan)
  end

  -- 4. Seed, unless asked not to.
  if ctx.config.seed and not ctx.options["no-seed"] then
    seed.run(conn, ctx)
    out:say("Seeded from " .. migrations.display_path(ctx.config, ctx.config.seed) .. ".")
  end

  -- 5. What is in it now.
  local counts = seed.row_counts(conn)
  out:set("tables", counts)
  for _, t in ipairs(counts) do
    out:say(string.format("  %-40s %8d rows", t.schema .. "." .. t.name, t.rows))
  end
  return 0
end)
