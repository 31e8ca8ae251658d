-- lint_driver.lua — bench/lint.sh's driver: reads every migration of the
-- project and, by --mode, only parses it (load: read + sql.script, the
-- floor), also keeps its parse tree from that parse (tree: sql.script(text,
-- true), what the lint reads), lints it as workflows/lint.lua does (lint:
-- lintrun.run, one run's state), or lints each as if it were the only pending
-- one (each: earlier tables exist, so the lock rules fire). Prints "<mode>
-- <migrations> <seconds> <findings>".
local ctx = ...
local migrations = require("stallmig.migrations")
local lint = require("stallmig.lint")
local lintrun = require("stallmig.lintrun")

local mode = ctx.options.mode or "lint"
assert(mode == "load" or mode == "tree" or mode == "lint" or mode == "each", "--mode load|tree|lint|each")
local start = os.clock() -- CPU seconds: what the machine's other load disturbs least
local list = lintrun.collect(ctx.config, {})
local rules = (mode == "lint" or mode == "each") and lint.rules(ctx.config)
local count = 0
if mode == "lint" then
  count = #lintrun.run(list, rules)
else
  for _, m in ipairs(list) do
    migrations.load(m, {}, mode ~= "load")
    if mode == "each" then count = count + #lint.check(m, rules, lint.context()) end
    migrations.release(m)
  end
end
print(string.format("%s %d %.6f %d", mode, #list, os.clock() - start, count))
