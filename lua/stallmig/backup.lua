-- stallmig.backup — a verified backup before a deploy changes anything.
-- The file: <backups>/<env>/<env>-<UTC timestamp>-<nn>-after-<last migration>.dump
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
  local dir, stamp = ctx.config.backups .. "/" .. env.name, sys.utc_timestamp()
  -- a sequence within the second, so that names sort in the order taken
  local seq = 1
  local prefix = env.name .. "-" .. stamp .. "-"
  for _, e in ipairs(files.kind(dir) == "dir" and files.list(dir) or {}) do
    if e.name:sub(1, #prefix) == prefix then seq = seq + 1 end
  end
  local path = string.format("%s/%s%02d-after-%s.dump", dir, prefix, seq, (last:gsub("[^%w_.-]", "_")))
  local r = db.backup(env.name, path)
  r.path, r.file, r.last_migration = path, migrations.display_path(ctx.config, path), last
  return r
end

-- Records it in the database (the change gate calls it once its books are open).
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

-- backup.run(ctx, env_name [, opts]) -> {environment, path, file, checksum,
-- size, last_migration}: a verified backup now, through the change gate
-- (the deploy lock held, so no deploy runs meanwhile; recorded in
-- stallmig.backups and the audit; the newest keep_backups kept). On a
-- protected environment it is confirmed first (typed name, or --yes).
-- opts.out: a report to print to; without it nothing is printed.
function backup.run(ctx, env_name, opts)
  opts = opts or {}
  local s <close> = require("stallmig.session").open(ctx,
    { env = env_name, change = "backup", confirm = "take a backup" })
  local name = s.env.name
  local out = opts.out or require("stallmig.report").quiet("backup", name)
  s.change:confirm("take a backup of " .. name)
  local b = s.change:backup(true)           -- asked for: taken whatever backup = says
  local result = { environment = name, path = b.path, file = b.file, checksum = b.checksum,
    size = b.size, last_migration = b.last_migration }
  for k, v in pairs(result) do out:set(k, v) end
  out:say(string.format("Backed up %s to %s (%d bytes, verified, after %s).", name, b.file, b.size,
    b.last_migration))
  return result
end

return backup
