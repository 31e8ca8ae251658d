-- stallmig.backup — a verified backup before a deploy changes anything.
-- The file: <backups>/<env>/<env>-<UTC timestamp>-after-<last migration>.dump
-- (mode 0600, made by the host; pg_dump's custom format, read back whole
-- with pg_restore before it counts).
local db = require("stallmig.db")
local files = require("stallmig.files")
local sys = require("stallmig.sys")
local history = require("stallmig.history")
local migrations = require("stallmig.migrations")

local backup = {}

local function last_applied(plan)
  local last = "nothing"
  for _, m in ipairs(plan.entries) do if m.state == "applied" then last = m.name end end
  return last
end

-- Takes the backup; returns {path, file, checksum, size, last_migration}.
function backup.take(ctx, env, plan)
  local last = last_applied(plan)
  local path = string.format("%s/%s/%s-%s-after-%s.dump", ctx.config.backups, env.name, env.name,
    sys.utc_timestamp(), last:gsub("[^%w_.-]", "_"))
  local r = db.backup(env.name, path)
  r.path, r.file, r.last_migration = path, migrations.display_path(ctx.config, path), last
  return r
end

-- Records it in the database (after conn:allow_writes and history.ensure).
function backup.record(conn, env, b)
  conn:query([[INSERT INTO stallmig.backups (environment, path, checksum, size_bytes, taken_by, last_migration)
               VALUES ($1, $2, $3, $4, $5, $6)]], env.name, b.path, b.checksum, b.size,
    history.applied_by(), b.last_migration)
end

-- Keeps the newest `keep` backups of the environment, removes the rest.
function backup.prune(ctx, env, keep)
  local dir = ctx.config.backups .. "/" .. env.name
  local dumps = {}
  for _, e in ipairs(files.list(dir)) do
    if e.type == "file" and e.name:match("%.dump$") then dumps[#dumps + 1] = e.name end
  end
  local removed = 0
  for i = 1, #dumps - keep do               -- names sort by their timestamp
    files.remove(dir .. "/" .. dumps[i])
    removed = removed + 1
  end
  return removed
end

return backup
