-- verify.lua — review pending migrations before deploy: lint, data at risk, rollback plan, rehearsal
--
--   stallrun workflows/verify.lua --env staging [--rehearse] [--drift] [--json | --format github]
--   stallrun workflows/verify.lua --env staging --format html|markdown [--output FILE]
--
-- The runbook's review questions, answered with evidence from the target
-- database (verify.run, lua/stallmig/verify.lua). Read-only unless
-- --rehearse, which runs the pending migrations in one transaction and
-- rolls back. Exit 0 when nothing at error severity was found, 1 otherwise.
local ctx = ...
local cli = require("stallmig.cli")
local verify = require("stallmig.verify")
local review = require("stallmig.review")
local report = require("stallmig.report")
local artifact = require("stallmig.artifact")

return report.run(ctx, "verify", function(out)
  cli.check_options(ctx, { rehearse = true, drift = true, format = true, output = true })
  local env = cli.require_env(ctx)
  local format = review.check_format(ctx)
  -- an --output that cannot be written fails now, before the review runs
  local file = ctx.options.output and artifact.open(ctx.options.output)
  local doc = verify.run(ctx, env.name, { rehearse = ctx.options.rehearse, drift = ctx.options.drift })
  for _, w in ipairs(doc.warnings) do out:warn(w) end
  doc.warnings = nil
  return review.emit(out, doc, format, file)
end)
