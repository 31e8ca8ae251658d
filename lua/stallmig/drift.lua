-- stallmig.drift — has the database drifted from what its migrations make?
-- The applied migrations are replayed on a shadow database (db.shadow), and
-- the two schemas compared (stallmig.snapshot, stallmig.schemadiff). The
-- target is only read.
local db = require("stallmig.db")
local sql = require("stallmig.sql")
local migrations = require("stallmig.migrations")
local snapshot = require("stallmig.snapshot")
local schemadiff = require("stallmig.schemadiff")
local errors = require("stallmig.error")

local drift = {}

local function replay(shadow, m)
  if m.mode == "transactional" then
    shadow:exec("BEGIN;\n" .. m.content .. "\n;\nCOMMIT;")
  else
    for _, statement in ipairs(m.script.statements) do shadow:exec(statement.text) end
  end
  shadow:exec(require("stallmig.apply").RESET_SESSION)   -- as deploy does between migrations
end

local function replay_each(shadow, found, list, what)
  for _, m in ipairs(list) do
    migrations.load(m, found)
    -- a phased migration as far as it went: expanded, or completed (never its down section)
    local view = require("stallmig.phases").deploy_view(m, m.state ~= "expanded" and "complete" or nil)
    local ok, err = pcall(replay, shadow, view)
    migrations.release(m)
    if not ok then
      if type(err) == "table" and err.kind == "interrupted" then error(err, 0) end
      pcall(shadow.exec, shadow, "ROLLBACK")
      error(errors.new("failed", string.format("%s%s does not replay on an empty database: %s", m.name, what,
        type(err) == "table" and tostring(err.message) or tostring(err)), { migration = m.name,
        hint = "the history cannot be rebuilt from the files; fix the migration or reset" }), 0)
    end
  end
end

-- Two snapshots: what the applied migrations produce, and conn's database.
-- With opts.pending, a third: what the applied and then the pending
-- migrations produce (replayed on the same shadow), or nil and the error
-- when a pending one does not replay. A migration captured with
-- `create.lua --from-diff` is pending while the database already holds
-- what it makes: against the history alone that is drift, against the
-- history and the pending migrations it is not.
function drift.snapshots(conn, env, found, plan, opts)
  local shadow <close> = db.shadow(env.name)
  local applied = {}
  for _, m in ipairs(plan.entries) do
    if m.state == "applied" or m.state == "expanded" or m.state == "modified" then applied[#applied + 1] = m end
  end
  replay_each(shadow, found, applied, "")
  local made, target = snapshot.read(shadow), snapshot.read(conn)
  if not (opts and opts.pending) then return made, target end
  if #plan.pending == 0 then return made, target, made end
  local ok, err = pcall(replay_each, shadow, found, plan.pending, " (pending)")
  if not ok then
    if type(err) == "table" and err.kind == "interrupted" then error(err, 0) end
    return made, target, nil, err
  end
  return made, target, snapshot.read(shadow)
end

-- The differences (sentences) between what the applied migrations produce
-- and the schema of conn's database; {} when there is none.
function drift.check(conn, env, found, plan)
  return schemadiff.compare(drift.snapshots(conn, env, found, plan))
end

return drift
