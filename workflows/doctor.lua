-- doctor.lua — check an environment: reachable, which database it is, replica, timeouts
--
--   stallrun workflows/doctor.lua --env prod [--json]
--
-- Read-only. Exit 0 when every check passes, 1 when a problem was found.
local ctx = ...
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local report = require("stallmig.report")
local json = require("stallmig.json")

return report.run(ctx, "doctor", function(out)
  cli.check_options(ctx, {})
  local env = cli.require_env(ctx)
  local checks, problems = json.array(), 0
  local function check(ok, what, detail)
    local mark = ok == true and "ok  " or ok == "warn" and "warn" or "FAIL"
    if ok ~= true and ok ~= "warn" then problems = problems + 1 end
    checks[#checks + 1] = { check = what, result = mark:gsub(" ", ""), detail = detail }
    out:say(string.format("  %s %-22s %s", mark, what, detail))
  end
  out:say("Checking " .. env.name .. " (" .. ctx.config.path .. "):")

  -- 1. Reachable at all, and as whom.
  local ok, conn = pcall(db.connect, env.name)
  if not ok then
    check(false, "reachable", type(conn) == "table" and conn.message or tostring(conn))
    out:set("checks", checks)
    out:set("ok", false)
    return 1
  end
  local info = conn:info()
  local server = conn:query([[SELECT current_setting('server_version') AS version,
      pg_is_in_recovery() AS standby, current_setting('lock_timeout') AS lock_timeout,
      current_setting('statement_timeout') AS statement_timeout, pg_backend_pid() AS pid]])[1]
  check(true, "reachable", string.format("PostgreSQL %s, database %s as %s", server.version,
    info.database, info.user))

  -- 2. Which database this is: the marker, aliases, copies.
  local id = conn:identity()
  if id.doubt then check(false, "identity", id.doubt)
  elseif id.marker_env then check(true, "identity", "marked as " .. id.marker_env .. "'s database")
  else check("warn", "identity", "no marker yet (the first deploy writes it)") end
  local twins, undecided = conn:twins()   -- connects to every other environment it can reach
  local same = id.alias_of or twins[1]
  check(same == nil and undecided[1] == nil, "other environments", id.alias_of
    and ("the url of " .. env.name .. " leads to the same database as " .. id.alias_of)
    or same and ("the database of " .. env.name .. " is the database of " .. same
      .. " (same cluster and database)")
    or undecided[1] and ("cannot tell whether the database of " .. env.name .. " is the database of "
      .. undecided[1] .. " (same OID; the roles may read neither the cluster's system identifier "
      .. "nor the server's start time)")
    or "no other environment's database is this one")
  check(true, "protection", id.protected
    and "protected: read-only unless a change is confirmed" or "not protected (protected = false)")

  -- 3. Can it take migrations, and will a blocked one fail fast?
  check(not server.standby, "primary", server.standby
    and "a read-only hot standby (pg_is_in_recovery): deploy to the primary" or "not a standby")
  check(server.pid == info.pid, "direct connection", server.pid == info.pid
    and "no connection pooler in between (the backend pid is the server's)"
    or string.format("through a connection pooler (the server's pid is %d, the connection was "
      .. "given %d): deploy refuses; point url at the server", server.pid, info.pid))
  local no_lock_timeout = server.lock_timeout == "0"
  check(no_lock_timeout and id.protected and "warn" or true, "timeouts", string.format(
    "lock_timeout %s, statement_timeout %s%s", server.lock_timeout, server.statement_timeout,
    no_lock_timeout and id.protected and " (set lock_timeout so a blocked migration fails fast)" or ""))

  out:set("checks", checks)
  out:set("ok", problems == 0)
  out:say(problems == 0 and "No problems found." or (problems .. " problem(s) found."))
  conn:close()
  return problems == 0 and 0 or 1
end)
