-- release.lua — the runbook as one script: verify staging, deploy staging, run its integration tests, deploy prod
--
--   stallrun workflows/release.lua --env prod [--yes] [--json]
--
-- The environment named is where the release ends; its promote_from
-- (staging) is where it is tested first. Copy this file to make a release
-- script of your own: each step is a library call that returns a result
-- (docs/lua-api.md), and the host's change gate still checks every rule
-- in each deploy (staging first, the review on prod's data, confirmation,
-- the backup), whatever a copy leaves out.
--
--   [env.staging]
--   integration_tests = npm run test:integration   ; run after staging's deploy (no shell)
local ctx = ...
local cli = require("stallmig.cli")
local verify = require("stallmig.verify")
local deploy = require("stallmig.deploy")
local status = require("stallmig.status")
local command = require("stallmig.command")
local report = require("stallmig.report")
local errors = require("stallmig.error")

local function stop(message, hint)
  error(errors.new("failed", message, { hint = hint }), 0)
end

return report.run(ctx, "release", function(out)
  cli.check_options(ctx, {})
  local target = cli.require_env(ctx)
  local source = target.promote_from and ctx.config.environments[target.promote_from]
  if not source then
    error(errors.new("usage", "release.lua takes the environment the release ends in, and "
      .. target.name .. " has no promote_from (the environment it is tested in first)",
      { hint = "add promote_from = staging to [env." .. target.name .. "], or deploy with workflows/deploy.lua" }), 0)
  end

  -- 1. Review what staging is about to get, on staging's own data.
  local review = verify.run(ctx, source.name)
  out:set("review", review)
  out:say(review.verdict.text)
  if not review.verdict.ok then
    stop("the review of " .. source.name .. " found errors: nothing was deployed",
      "stallrun workflows/verify.lua --env " .. source.name .. " shows them")
  end

  -- 2. Deploy staging (its backup, its confirmation: the gate's).
  deploy.run(ctx, source.name, { out = out:section(source.name) })

  -- 3. Staging must now hold every migration.
  local st = status.run(ctx, source.name)
  if not st.up_to_date then
    stop(source.name .. " is not up to date after its deploy: " .. target.name .. " is not deployed")
  end

  -- 4. The integration tests, against staging.
  if source.integration_tests then
    out:say("Testing " .. source.name .. ": " .. source.integration_tests)
    local code = command.run(source.integration_tests, { cwd = ctx.config.dir })
    out:set("integration_tests", { command = source.integration_tests, status = code })
    if code ~= 0 then
      stop(string.format("the integration tests of %s failed (exit %d): %s is not deployed",
        source.name, code, target.name), "fix what they found, then release again")
    end
  else
    out:warn("[env." .. source.name .. "] has no integration_tests: nothing was tested after its deploy")
  end

  -- 5. Deploy prod: the gate takes only what staging has, reviews it on
  --    prod's data, asks, and backs up first.
  deploy.run(ctx, target.name, { out = out:section(target.name) })
  return 0
end)
