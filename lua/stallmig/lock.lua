-- stallmig.lock — one deploy at a time per database.
-- A session-level advisory lock, polled with pg_try_advisory_lock in autocommit:
-- the waiting session never sits in an open transaction (CREATE INDEX
-- CONCURRENTLY waits for every open transaction), and the lock dies with the
-- session if stallrun is killed.
local sys = require("stallmig.sys")
local errors = require("stallmig.error")
local interrupt = require("stallmig.interrupt")

local lock = {}

-- The deploy lock's key, as the host's DEPLOY_LOCK_KEY (src/lapi_lock.c).
lock.KEY = string.unpack(">i8", "STALLMIG")

-- The session holding the key: pid, application, user, and since when when
-- that holder announced it (stallmig.deploy_lock), else since it connected.
local HOLDER = [[
  SELECT a.pid, a.application_name, a.usename, a.client_addr::text AS client_addr,
         round(extract(epoch FROM now() - %s))::bigint AS seconds, %s AS exact
    FROM pg_locks l
    JOIN pg_stat_activity a ON a.pid = l.pid %s
   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.classid::bigint = ($1::bigint >> 32) & 4294967295
     AND l.objid::bigint = $1::bigint & 4294967295]]

-- The session holding the lock, described for a person, or nil.
local function holder(conn)
  local announced = conn:query("SELECT to_regclass('stallmig.deploy_lock') IS NOT NULL AS ok")[1].ok
  local sql = announced
    and HOLDER:format("coalesce(h.since, a.backend_start)", "h.since IS NOT NULL",
      "LEFT JOIN stallmig.deploy_lock h ON h.pid = l.pid")
    or HOLDER:format("a.backend_start", "false", "")
  local h = conn:query(sql, lock.KEY)[1]
  if not h then return nil end
  return string.format("pid %d (application '%s', user %s%s), holding it for %s%ds",
    h.pid, h.application_name or "", h.usename or "?",
    h.client_addr and (" from " .. h.client_addr) or "", h.exact and "" or "at most ", h.seconds)
end

-- The host takes and releases the key (a read-only connection may not call
-- pg_advisory_* itself).
local function try(conn)
  return conn:try_deploy_lock()
end

-- Polls for the lock until deadline; true once taken.
local function wait(conn, deadline)
  local pause = 0.05
  while sys.clock() < deadline do
    sys.sleep(math.min(pause, math.max(deadline - sys.clock(), 0.01)))
    if try(conn) then return true end
    pause = math.min(pause * 1.5, 1.0)
  end
  return false
end

-- Takes the lock, waiting up to wait_seconds; `say` reports that it waits.
-- First refuses (kind "refused") a hot standby or a connection pooler, where
-- the workflow's writes would fail or the lock would not hold.
function lock.acquire(conn, wait_seconds, say)
  conn:require_primary()
  if try(conn) then return end
  local deadline = sys.clock() + wait_seconds
  if say then say("waiting for the deploy lock: " .. (holder(conn) or "held by another session")) end
  local ok, got = interrupt.pcall(wait, conn, deadline)
  if not ok then
    if interrupt.is(got) then
      got.message = got.message .. " while waiting for the deploy lock: nothing was changed"
    end
    error(got, 0)
  end
  if got then return end
  error(errors.new("failed", string.format(
    "another deploy still holds the deploy lock after %gs: %s", wait_seconds,
    holder(conn) or "the holder has just released it"),
    { hint = "wait for it to finish, or raise lock_wait in stallmig.ini; "
      .. "pg_terminate_backend(pid) ends a stuck session (its transaction rolls back)" }), 0)
end

-- Records who holds the lock and since when (read by waiters). Needs the
-- history schema; call after history.ensure().
function lock.announce(conn)
  conn:exec([[
    DELETE FROM stallmig.deploy_lock;
    INSERT INTO stallmig.deploy_lock VALUES (pg_backend_pid(), now());]])
end

function lock.release(conn)
  conn:release_deploy_lock()
end

return lock
