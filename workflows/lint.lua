-- lint.lua — lint migration files without a database
--
--   stallrun workflows/lint.lua [PATH...] [--json | --format github | --format sarif]
--
-- Checks each file for data loss, breaking changes, long locks and
-- transaction hazards (docs/lint.md), against the state the files before it
-- built: a table created by an earlier file is new, as in one deploy. PATH is
-- a migration.sql, a NAME.sql or a folder of them; without PATH, the
-- project's migrations folder. Connects to nothing, so it runs in CI and in
-- a pre-commit hook. Exit 1 when an error-level finding is left (not
-- allowed by a -- stallmig:allow comment), 0 otherwise; 2 for a bad PATH.
local ctx = ...
local cli = require("stallmig.cli")
local lint = require("stallmig.lint")
local lintrun = require("stallmig.lintrun")
local lintout = require("stallmig.lintout")
local suppress = require("stallmig.lintallow")
local report = require("stallmig.report")
local json = require("stallmig.json")
local sys = require("stallmig.sys")

return report.run(ctx, "lint", function(out)
  -- 1. What to print, and which rules: the built-in ones and the team's ([project] lint_rules).
  cli.check_options(ctx, { format = true })
  local format = lintout.check_format(ctx)
  local rules = lint.rules(ctx.config)

  -- 2. The files, in order; a missing PATH stops here, before anything is read.
  local list = lintrun.collect(ctx.config, ctx.args)

  -- 3. Lint them as one run (a file that does not parse stops it, naming file:line:column).
  local findings, n = lintrun.run(list, rules)

  -- 4. Report: the verdict counts only what no allow comment explains.
  local records = json.array()
  for i, f in ipairs(findings) do records[i] = lintout.record(f) end
  out:set("files", #list)
  out:set("findings", records)
  out:set("counts", n)
  out:set("ok", n.error == 0)
  local say = function(line) out:say(line) end
  if format == "sarif" then
    sys.out(json.encode(lintout.sarif(findings, rules, { suppress.rules["allow-without-reason"],
      suppress.rules["allow-unknown-rule"] })), "\n")
  else
    lintout[format](findings, say)
    out:say(lintout.summary(#list, n))
  end
  return n.error == 0 and 0 or 1
end)
