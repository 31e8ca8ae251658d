-- stallmig.rollback — run the down.sql of the most recently applied
-- migrations, newest first, each in one transaction with its history row.
local files = require("stallmig.files")
local sql = require("stallmig.sql")
local history = require("stallmig.history")
local errors = require("stallmig.error")

local rollback = {}

-- The applied migrations to undo, newest first: the last `steps`, or all
-- applied after `to` (which stays applied).
function rollback.select(plan, steps, to)
  local applied = {}
  for _, m in ipairs(plan.entries) do
    if m.state == "applied" and m.row then applied[#applied + 1] = m end
  end
  table.sort(applied, function(a, b) return a.row.id > b.row.id end)
  local chosen = {}
  for _, m in ipairs(applied) do
    if to then
      if m.name == to then return chosen end
    elseif #chosen == steps then
      return chosen
    end
    chosen[#chosen + 1] = m
  end
  if to then error(errors.new("failed", to .. " is not an applied migration"), 0) end
  return chosen
end

-- Reads every down.sql first; refuses (nothing undone) when one is missing
-- or holds only comments (a template never filled in, or a note that the
-- change cannot be undone): running it would record a rollback that undid
-- nothing, and the next deploy would fail over what stayed.
function rollback.load(chosen, found)
  local missing, empty = {}, {}
  for _, m in ipairs(chosen) do
    local down = found.dir .. "/" .. m.name .. "/down.sql"
    if files.kind(down) ~= "file" then
      missing[#missing + 1] = "  " .. m.name
    else
      m.down = files.read(down):gsub("^\239\187\191", "")
      m.down_script = sql.script(m.down)
      if #m.down_script.statements == 0 then
        empty[#empty + 1] = "  " .. m.name .. ": " .. found.rel .. m.name .. "/down.sql holds only comments, no SQL"
      end
    end
  end
  if #missing > 0 and #empty == 0 then
    error(errors.new("failed", #missing .. " migration(s) have no down.sql, so nothing was rolled back:\n"
      .. table.concat(missing, "\n"), { hint = "write the rollback in <migration>/down.sql, or "
      .. "roll back with a new, corrective migration" }), 0)
  end
  if #empty > 0 then
    for _, line in ipairs(missing) do empty[#empty + 1] = line .. ": no down.sql" end
    error(errors.new("failed", #empty .. " migration(s) have no down.sql to run, so nothing was rolled back:\n"
      .. table.concat(empty, "\n"), { hint = "write the SQL that undoes the migration in its down.sql, "
      .. "or roll back with a new, corrective migration" }), 0)
  end
end

-- Undoes one migration: its down.sql and the history row in one transaction
-- (a down.sql that cannot run in one runs statement by statement first).
function rollback.undo(conn, m, env, prisma_compat)
  local record = history.AS_CONNECTING_ROLE .. ";\nINSERT INTO stallmig.migrations (name, checksum, started_at, finished_at, "
    .. "duration_ms, applied_by, environment, mode, outcome, note) VALUES (" .. conn:escape_literal(m.name)
    .. ", " .. conn:escape_literal(m.checksum) .. ", transaction_timestamp(), clock_timestamp(), "
    .. "1000 * extract(epoch FROM clock_timestamp() - transaction_timestamp()), "
    .. conn:escape_literal(history.applied_by()) .. ", " .. conn:escape_literal(env)
    .. ", 'transactional', 'rolled_back', 'rolled back with down.sql')"
  if prisma_compat then record = record .. ";\n" .. require("stallmig.prisma").rolled_back_sql(conn, m) end
  local reset = require("stallmig.apply").RESET_SESSION   -- what the down.sql left in the session
  local ok, err
  if m.down_script.mode == "transactional" then
    ok, err = pcall(conn.exec, conn, "BEGIN;\n" .. m.down .. "\n;\n" .. record .. ";\nCOMMIT;\n" .. reset)
  else                                -- e.g. DROP INDEX CONCURRENTLY: as written, then recorded
    ok, err = pcall(function()
      for _, statement in ipairs(m.down_script.statements) do conn:exec(statement.text) end
      conn:exec("BEGIN;\n" .. record .. ";\nCOMMIT;\n" .. reset)
    end)
  end
  if not ok then
    pcall(conn.exec, conn, "ROLLBACK; " .. reset)
    if type(err) == "table" then
      err.kind = err.kind == "interrupted" and err.kind or "failed"
      err.message = "the down.sql of " .. m.name .. " failed, and was rolled back: " .. tostring(err.message)
    end
    error(err, 0)
  end
end

-- rollback.run(ctx, env_name, {steps = N | to = NAME [, out = report]}) -> result:
-- the newest applied migrations undone with their down.sql, newest first,
-- through the change gate (confirmation where protected, a backup where
-- backup = true or the environment is protected, each down.sql reviewed
-- where protected). result: {environment, rolled_back = {names}, backup}.
-- Refuses before anything when one of them has no down.sql. out: a report
-- to print to; without it nothing is printed. Kind "usage" unless exactly
-- one of steps (a whole number, 1 or more) and to is given.
function rollback.run(ctx, env_name, opts)
  local report = require("stallmig.report")
  local json = require("stallmig.json")
  local which = opts or {}
  local steps, to = which.steps, which.to
  if (steps == nil) == (to == nil) or (steps ~= nil and (math.type(steps) ~= "integer" or steps < 1))
      or (to ~= nil and type(to) ~= "string") then
    error(errors.new("usage", "say what to roll back: {steps = N} (a whole number, 1 or more) or "
      .. "{to = MIGRATION}, one of them"), 0)
  end
  local out = which.out or report.quiet("rollback", env_name)
  -- 1. Which migrations, newest first, and every down.sql read (and, where
  --    protected, reviewed) before anything runs or anyone is asked.
  local s <close> = require("stallmig.session").open(ctx,
    { env = env_name, change = "rollback", confirm = "roll back migrations", entries = true })
  local env, change = s.env, s.change
  local chosen = rollback.select(s.plan, which.steps, which.to)
  out:set("environment", env.name)
  out:set("rolled_back", json.array())
  if #chosen == 0 then
    out:say("Nothing to roll back.")
    return out.doc
  end
  rollback.load(chosen, s:found())
  for _, m in ipairs(chosen) do change:check_undo(m.name) end

  -- 2. Confirm, and back up first: where backup = true the gate insists; on
  --    any protected environment this asks for one too.
  change:confirm("roll back " .. #chosen .. " migration(s)")
  local b = change:backup(env.protected)
  if b then
    out:say(string.format("Backed up %s to %s (%d bytes, verified).", env.name, b.file, b.size))
    out:set("backup", { path = b.path, checksum = b.checksum, size = b.size })
  end

  -- 3. Undo, newest first (the gate runs each down.sql and records it).
  for _, m in ipairs(chosen) do
    change:undo(m.name)
    table.insert(out.doc.rolled_back, m.name)
    out:say("  - " .. m.name .. " rolled back")
  end
  out:say(string.format("Rolled back %d migration(s) on %s.", #chosen, env.name))
  return out.doc
end

return rollback
