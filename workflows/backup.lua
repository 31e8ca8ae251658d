-- backup.lua — take a verified backup of an environment now (pg_dump, read back whole, recorded)
--
--   stallrun workflows/backup.lua --env prod [--yes] [--json]
--
-- The same backup deploy takes before it changes anything (backup.run,
-- lua/stallmig/backup.lua): backups/<env>/<env>-<time>-<nn>-after-<last
-- migration>.dump, mode 0600, the newest keep_backups kept. The deploy lock
-- is held while it runs, so no deploy changes the database meanwhile.
local ctx = ...
local cli = require("stallmig.cli")
local backup = require("stallmig.backup")
local report = require("stallmig.report")

return report.run(ctx, "backup", function(out)
  cli.check_options(ctx, {})
  backup.run(ctx, cli.require_env(ctx).name, { out = out })
  return 0
end)
