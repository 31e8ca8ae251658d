-- reset.lua — drop and recreate the dev database, apply every migration, seed it (prisma migrate reset)
--
--   stallrun workflows/reset.lua --env dev [--no-seed]
--
-- Only for an environment with protected = false whose database is beyond
-- doubt its own: the host refuses everything else (exit 3), whatever this
-- script says.
local ctx = ...
local cli = require("stallmig.cli")
local reset = require("stallmig.reset")
local report = require("stallmig.report")

return report.run(ctx, "reset", function(out)
  cli.check_options(ctx, { ["no-seed"] = true })
  local env = cli.require_env(ctx)

  -- 1-4. Drop, recreate, apply every migration, seed (stallmig.reset).
  local counts = reset.run(ctx, env, out, not ctx.options["no-seed"])

  -- 5. What is in it now.
  out:set("tables", counts)
  for _, t in ipairs(counts) do
    out:say(string.format("  %-40s %8d rows", t.schema .. "." .. t.name, t.rows))
  end
  return 0
end)
