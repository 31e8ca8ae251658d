-- stallmig.fleetrun — a workflow run on every member of a fleet, one
-- process per member ("stallrun WORKFLOW --fleet F --member M", the
-- ordinary single-target run with its gate), parallel at a time. The
-- coordinator never connects to a member: stallmig.fleet keeps the urls.
local fleet = require("stallmig.fleet")
local files = require("stallmig.files")
local sys = require("stallmig.sys")
local errors = require("stallmig.error")

local run = {}

-- Seconds the running members get to finish after SIGINT/SIGTERM before
-- they are asked to cancel (the host ends the run 30 s after the signal).
run.GRACE = 20

-- What a member process's end means: ok, failed, unreachable, refused,
-- interrupted or killed; and the error's message (already redacted).
function run.outcome(result)
  local err = result.report and result.report.error
  local message = err and err.message
  if not message and result.status ~= 0 then
    message = result.stderr:match("stallrun: ([^\n]*)") or result.stderr:match("([^\n]+)\n?$")
  end
  if result.signal and result.signal ~= 0 then
    return "killed", "the member process was ended by signal " .. result.signal
  end
  if result.status == 0 then return "ok" end
  if err and err.kind == "interrupted" or result.status == 130 or result.status == 143 then
    return "interrupted", message
  end
  if message and message:match("^cannot connect to") then return "unreachable", message end
  if result.status == 3 then return "refused", message end
  return "failed", message
end

-- Runs args on each member of queue, parallel at a time. hooks:
-- may_start() (false: start no more), done(member, result, seconds),
-- tick(running). Returns true when SIGINT/SIGTERM stopped it.
function run.pool(name, queue, args, parallel, hooks)
  local running, next_i, interrupted_at, cancelled = {}, 1, nil, false
  while true do
    if not interrupted_at and fleet.interrupted() then interrupted_at = sys.clock() end
    while #running < parallel and next_i <= #queue and not interrupted_at and hooks.may_start() do
      local m = queue[next_i]
      next_i = next_i + 1
      local ok, child = pcall(fleet.spawn, name, m.name, args)
      if ok then
        running[#running + 1] = { member = m, child = child, t0 = sys.clock() }
      else   -- not started (refused: no such member where it promotes from; or fork failed)
        local err = type(child) == "table" and child or { message = tostring(child) }
        hooks.done(m, { status = err.kind == "refused" and 3 or 255, signal = 0, stdout = "",
          stderr = "", report = { error = { kind = err.kind, message = err.message } } }, 0)
      end
    end
    if #running == 0 then break end
    local children = {}
    for i, r in ipairs(running) do children[i] = r.child end
    fleet.wait(children, 0.25)
    local still = {}
    for _, r in ipairs(running) do
      local result = r.child:result()
      if result then
        r.child:close()
        hooks.done(r.member, result, sys.clock() - r.t0)
      else
        still[#still + 1] = r
      end
    end
    running = still
    if interrupted_at and not cancelled and sys.clock() - interrupted_at > run.GRACE then
      for _, r in ipairs(running) do r.child:signal("INT") end   -- each cancels cleanly
      cancelled = true
    end
    if hooks.tick then hooks.tick(#running, interrupted_at ~= nil) end
  end
  return interrupted_at ~= nil
end

-- Where a fleet's journals are kept: .stallmig/fleet/NAME beside the INI
-- (--journal-dir DIR elsewhere, e.g. a shared volume).
function run.journal_dir(ctx, name)
  local dir = ctx.options["journal-dir"]
  if type(dir) == "string" then return dir end
  return ctx.config.dir .. "/.stallmig/fleet/" .. name
end

-- The member processes' arguments: the workflow, --json (their report is
-- read back), and what the coordinator was given that they need.
function run.member_args(ctx, extra)
  local args = { ctx.workflow, "--json" }
  if ctx.yes then args[#args + 1] = "--yes" end
  for key, value in pairs(ctx.overrides) do
    args[#args + 1] = "--" .. key
    if type(value) == "string" then args[#args + 1] = value end
  end
  if ctx.reason then
    args[#args + 1] = "--reason"
    args[#args + 1] = ctx.reason
  end
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  return args
end

-- The fleet's settings from ctx.config; usage error when it has none.
function run.fleet_config(ctx)
  local f = ctx.config.fleets[ctx.fleet]
  if not f then error(errors.new("usage", "there is no [fleet." .. tostring(ctx.fleet) .. "]"), 0) end
  return f
end

return run
