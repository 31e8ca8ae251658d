-- stallmig.session — the opening every workflow shares: the environment,
-- the migrations folder (read in the background while connecting), the
-- connection, and either the change gate (which takes the deploy lock and
-- reads the plan itself) or, for a read-only look, the plan from history.
--
--   local s <close> = session.open(ctx, { change = "deploy", confirm = "apply migrations" })
--   s.env, s.conn, s.change, s.plan
--
-- opts (all optional):
--   env       an environment name (default: --env, checked by cli.require_env)
--   change    what the change is: opens conn:begin_change (the deploy lock,
--             the host's plan in s.plan; every entry when opts.entries)
--   confirm   what a protected environment will be asked to confirm: with no
--             terminal and no --yes, refused before connecting (guard.preflight)
--   dev_only  dev-only work: refused on a protected environment or a
--             database in doubt (guard.dev_only), before and after connecting
--   detailed  read-only plan: the history with when and how long (status)
--   current   read-only: first ask the history digest whether the folder is
--             exactly what is applied (conn:history_current); if so s.current
--             is the number of migrations and s.plan is not read. current = K
--             (a number): s.recent also holds the rows history.recent_from
--             takes for the K applied last, read in the same statement
-- Closing the session closes the change (lock released), the connection
-- and the scan, in that order; an error on the way closes them too.
local cli = require("stallmig.cli")
local db = require("stallmig.db")
local guard = require("stallmig.guard")
local migrations = require("stallmig.migrations")
local history = require("stallmig.history")
local interrupt = require("stallmig.interrupt")

local session = {}
local Session = {}
Session.__index = Session

function Session:close(err)
  for _, key in ipairs({ "change", "conn", "scan" }) do
    local handle = self[key]
    self[key] = nil
    if handle then
      local close = getmetatable(handle).__close
      if close then close(handle, err) end
    end
  end
end

Session.__close = Session.close

-- The folder as a workflow sees it (the change reads its own): discovered
-- once, on first use.
function Session:found()
  if not self._found then
    self._found, self.warnings = migrations.discover(self.ctx.config, self.change == nil and self.scan or nil)
  end
  return self._found
end

local function opened(s, ctx, opts)
  local env = s.env
  if opts.dev_only then guard.dev_only(env.name) end
  if opts.confirm then guard.preflight(env.name, opts.confirm) end
  s.scan = migrations.scan(ctx.config)
  s.conn = db.connect(env.name)
  if opts.dev_only then guard.dev_only(s.conn) end
  if opts.change then
    s.change = s.conn:begin_change({ what = opts.change, scan = s.scan })
    s.plan = s.change:plan({ entries = opts.entries })
    s.warnings = s.plan.warnings
  else
    if opts.current then
      local k = type(opts.current) == "number" and math.floor(opts.current) or 0
      s.current, s.recent = s.conn:history_current(s.scan, k > 0 and history.recent_rows(k) or nil)
      s.recent = s.recent or {}
    end
    if not s.current then s.plan = migrations.plan(s:found(), history.read(s.conn, opts.detailed)) end
  end
end

function session.open(ctx, opts)
  opts = opts or {}
  local env
  if opts.env == nil then
    env = cli.require_env(ctx)
  else
    env = ctx.config.environments[opts.env]
    if env == nil then
      error(require("stallmig.error").new("usage", "unknown environment '" .. tostring(opts.env)
        .. "' (not in " .. tostring(ctx.config.path) .. ")"), 0)
    end
  end
  local s = setmetatable({ ctx = ctx, env = env }, Session)
  local ok, err = interrupt.pcall(opened, s, ctx, opts)
  if not ok then
    s:close(err)
    error(err, 0)
  end
  return s
end

return session
