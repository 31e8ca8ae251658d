-- deploy.lua — apply pending migrations in order (prisma migrate deploy)
--
--   stallrun workflows/deploy.lua --env staging [--json]
--   stallrun workflows/deploy.lua --env prod --yes      # CI: --yes confirms
--
-- The steps are deploy.run's (lua/stallmig/deploy.lua): the host's change
-- gate holds the deploy lock, refuses edited or missing migrations, takes
-- only what promote_from's environment has applied, refuses data loss the
-- review measured on a protected environment, asks for confirmation, and
-- backs up first where backup = true. A script that calls the gate itself
-- and leaves a step out is refused, naming the call to make: see
-- workflows/release.lua for a script of your own.
--
--   stallrun workflows/deploy.lua --fleet tenants [--shard i/N] [--resume RUN]
--
-- deploys every member of [fleet.tenants] the same way, each in a process of
-- its own, wave by wave (lua/stallmig/fleetdeploy.lua, docs/fleet.md).
local ctx = ...
local cli = require("stallmig.cli")
local deploy = require("stallmig.deploy")
local report = require("stallmig.report")

return report.run(ctx, "deploy", function(out)
  if ctx.fleet and not ctx.member then
    cli.check_options(ctx, { shard = true, resume = true, ["journal-dir"] = true })
    return require("stallmig.fleetdeploy").run(ctx, out)   -- loaded only for --fleet
  end
  cli.check_options(ctx, {})
  deploy.run(ctx, cli.require_env(ctx).name, { out = out })
  return 0
end)
