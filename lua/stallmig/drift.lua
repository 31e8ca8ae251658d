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

-- Two snapshots: what the applied migrations produce, and conn's database.
function drift.snapshots(conn, env, found, plan)
  local shadow <close> = db.shadow(env.name)
  for _, m in ipairs(plan.entries) do
    if m.state == "applied" or m.state == "modified" then
      migrations.load(m, found)
      local ok, err = pcall(replay, shadow, m)
      if not ok then
        if type(err) == "table" and err.kind == "interrupted" then error(err, 0) end
        pcall(shadow.exec, shadow, "ROLLBACK")
        error(errors.new("failed", string.format("%s does not replay on an empty database: %s",
          m.name, type(err) == "table" and tostring(err.message) or tostring(err)),
          { hint = "the history cannot be rebuilt from the files; fix the migration or reset" }), 0)
      end
    end
  end
  return snapshot.read(shadow), snapshot.read(conn)
end

-- The differences (sentences) between what the applied migrations produce
-- and the schema of conn's database; {} when there is none.
function drift.check(conn, env, found, plan)
  return schemadiff.compare(drift.snapshots(conn, env, found, plan))
end

return drift
