-- lint_driver.lua — bench/lint.sh's driver: reads every migration of the
-- project and, by --mode, only parses it (load: read + sql.script, the
-- floor), also builds its parse tree (tree: + sql.parse), or lints it (lint:
-- + every rule, one run's state), or lints each as if it were the only pending
-- one (each: earlier tables exist, so the lock rules fire). Prints "<mode> <migrations> <seconds> <findings>".
local ctx = ...
local migrations = require("stallmig.migrations")
local lint = require("stallmig.lint")
local sql = require("stallmig.sql")
local sys = require("stallmig.sys")

local mode = ctx.options.mode or "lint"
assert(mode == "load" or mode == "tree" or mode == "lint" or mode == "each", "--mode load|tree|lint|each")
local found = migrations.discover(ctx.config)
local start = sys.clock()
local rules = (mode == "lint" or mode == "each") and lint.rules(ctx.config)
local state = lint.context()
local count = 0
for _, m in ipairs(found) do
  migrations.load(m, found)
  if mode == "tree" then
    sql.parse(m.content)
  elseif mode == "lint" then
    count = count + #lint.check(m, rules, state)
  elseif mode == "each" then
    count = count + #lint.check(m, rules, lint.context())
  end
end
print(string.format("%s %d %.6f %d", mode, #found, sys.clock() - start, count))
