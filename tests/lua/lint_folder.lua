-- lint_folder.lua — lint every migration of the project's folder, as one run
-- (run by tests/integration/test_lint.sh through stallrun; no server).
-- Prints "file:line:column: severity rule: message" per finding; exit 1 when
-- an unsuppressed error is found. A migration that does not parse raises.
local ctx = ...
local migrations = require("stallmig.migrations")
local lint = require("stallmig.lint")

local rules = lint.rules(ctx.config)
local state = lint.context()
local found = migrations.discover(ctx.config)
local errors = 0
for _, m in ipairs(found) do
  migrations.load(m, found)
  local findings, targets = lint.check(m, rules, state)
  for _, f in ipairs(findings) do
    print(string.format("%s:%d:%d: %s %s: %s%s", f.file, f.line, f.column, f.severity, f.rule, f.message,
      f.suppressed and (" [allowed: " .. f.suppressed .. "]") or ""))
    if f.severity == "error" and not f.suppressed then errors = errors + 1 end
  end
  for _, t in ipairs(targets) do
    print(string.format("target %s %s%s%s", t.action, t.schema and (t.schema .. ".") or "", t.table or t.schema,
      t.column and ("." .. t.column) or ""))
  end
end
print("lint: " .. #found .. " migration(s), " .. errors .. " error(s)")
return errors == 0
