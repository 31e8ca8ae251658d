-- stallmig.fleetdeploy — deploy every member of a fleet, wave by wave
-- (docs/fleet.md). Each member is the ordinary deploy in a process of its
-- own; its outcome goes to the run's journal (JSON lines) the moment it
-- finishes, so --resume RUN continues where a stopped, interrupted or
-- killed run left off.
local fleet = require("stallmig.fleet")
local plan = require("stallmig.fleetplan")
local run = require("stallmig.fleetrun")
local json = require("stallmig.json")
local sys = require("stallmig.sys")
local files = require("stallmig.files")
local errors = require("stallmig.error")

local deploy = {}

-- Each folder of path, made where missing. Shards started side by side make
-- the same journal folder: one that another made between the look and the
-- mkdir is there, as wanted.
local function mkdirs(path)
  local sofar = path:sub(1, 1) == "/" and "" or "."
  for part in path:gmatch("[^/]+") do
    sofar = sofar .. "/" .. part
    if files.kind(sofar) == nil then
      local ok, err = pcall(files.mkdir, sofar)
      if not ok and files.kind(sofar) ~= "dir" then error(err, 0) end
    end
  end
end

local function run_id(ctx, shard_i, shard_n)
  local id = ctx.options.resume
  if id ~= nil then
    if type(id) ~= "string" or not id:match("^[%w_.-]+$") then
      error(errors.new("usage", "--resume RUN: RUN is the id a fleet run printed (letters, "
        .. "digits, '.', '_', '-')"), 0)
    end
    return id
  end
  id = sys.utc_timestamp()
  if shard_i then id = string.format("%s-shard%dof%d", id, shard_i, shard_n) end
  return id
end

-- Members that finished ok in the run being resumed.
local function finished_in(path)
  local done = {}
  for _, record in ipairs(fleet.read_journal(path)) do
    if record.outcome == "ok" then done[record.member] = true end
  end
  return done
end

-- A protected fleet is confirmed once here (its name typed, or --yes);
-- the member processes then get --yes.
local function confirm(ctx, f, count)
  if not f.settings.protected or ctx.yes or count == 0 then return end
  if not sys.isatty("stdin") then
    error(errors.new("refused", "fleet " .. f.name .. " is protected and there is no terminal "
      .. "to confirm on", { hint = "in CI pass --yes: it confirms the deploy to every member" }), 0)
  end
  sys.err(string.format("Deploy to %d members of protected fleet %s? Type its name to confirm: ",
    count, f.name))
  if io.read("l") ~= f.name then
    error(errors.new("refused", "not confirmed: nothing was deployed"), 0)
  end
  ctx.yes = true
end

local function progress_line(s, total, running)
  local line = string.format("fleet %s: %d/%d done, %d failed", s.name, s.done, total, s.failed)
  if running then line = line .. string.format(", %d running", running) end
  if s.done > 0 and s.done < total then
    local left = (sys.clock() - s.t0) / s.done * (total - s.done)
    line = line .. string.format(", about %ds left", math.floor(left + 0.5))
  end
  return line
end

-- The journal record of one member.
local function record(s, member, result, seconds, wave)
  local outcome, message = run.outcome(result)
  local rep = result.report or {}
  local applied = {}
  for i, m in ipairs(type(rep.applied) == "table" and rep.applied or {}) do
    applied[i] = type(m) == "table" and m.name or m
  end
  return {
    run = s.id, fleet = s.name, member = member.name, url = member.url, wave = wave,
    shard = s.shard, outcome = outcome, exit = result.status,
    seconds = math.floor(seconds * 1000 + 0.5) / 1000, applied = json.array(applied),
    error = message, at = sys.utc_time(),
  }
end

function deploy.run(ctx, out)
  local f = run.fleet_config(ctx)
  local shard_i, shard_n = plan.parse_shard(ctx.options.shard)
  local members = plan.slice(fleet.members(f.name), shard_i, shard_n)
  fleet.hold_interrupts()   -- from here a signal stops starting members, as a step
  local s = { id = run_id(ctx, shard_i, shard_n), name = f.name, done = 0, failed = 0,
    t0 = sys.clock(), shard = shard_i and (shard_i .. "/" .. shard_n) or nil, counts = {} }
  local dir = run.journal_dir(ctx, f.name)
  mkdirs(dir)
  local path = dir .. "/" .. s.id .. ".jsonl"
  local base, n = s.id, 1
  while not ctx.options.resume and files.kind(path) ~= nil do   -- a run in the same second
    n = n + 1
    s.id = base .. "-" .. n
    path = dir .. "/" .. s.id .. ".jsonl"
  end
  local skip = {}
  if ctx.options.resume then
    if files.kind(path) ~= "file" then
      error(errors.new("usage", "there is no run " .. s.id .. " of fleet " .. f.name .. " in "
        .. dir, { hint = "pass --resume with the run id a fleet deploy printed" }), 0)
    end
    skip = finished_in(path)
  end
  local todo = {}
  for _, m in ipairs(members) do if not skip[m.name] then todo[#todo + 1] = m end end
  confirm(ctx, f, #todo)

  local journal <close> = io.open(path, "a")
  if not journal then error(errors.new("io", "cannot write the journal " .. path), 0) end
  local waves = plan.waves(f.waves, #todo)
  local limit = plan.failure_limit(f.on_error, #todo)
  out:say(string.format("fleet %s: run %s, %d members (%d finished before), %d waves, "
    .. "parallel %d; journal %s", f.name, s.id, #todo, #members - #todo, #waves, f.parallel, path))
  local args = run.member_args(ctx)
  local tty = sys.isatty("stderr") and not ctx.json
  local every = math.max(10, math.ceil(#todo / 10))
  local results, stopped, interrupted = {}, nil, false
  local started = 0
  for w, upto in ipairs(waves) do
    local queue = table.move(todo, started + 1, upto, 1, {})
    local failed_before = s.failed
    out:say(string.format("wave %d of %d: %d members", w, #waves, #queue))
    interrupted = run.pool(f.name, queue, args, f.parallel, {
      may_start = function() return s.failed < limit end,
      done = function(member, result, seconds)
        local rec = record(s, member, result, seconds, w)
        journal:write(json.encode(rec), "\n")
        journal:flush()
        s.done = s.done + 1
        s.counts[rec.outcome] = (s.counts[rec.outcome] or 0) + 1
        if rec.outcome ~= "ok" then s.failed = s.failed + 1 end
        results[#results + 1] = rec
        if tty then sys.err("\r\27[K") end
        out:step(rec.outcome == "ok" and "+" or "x", member.name, rec.outcome
          .. (rec.error and (": " .. rec.error) or "") .. " (" .. string.format("%.1f s", seconds) .. ")")
        if not tty and s.done % every == 0 and s.done < #todo then   -- a CI log: every tenth
          out:say(progress_line(s, #todo))
        end
      end,
      tick = function(running)
        if tty then sys.err("\r\27[K", progress_line(s, #todo, running)) end
      end,
    })
    if tty then sys.err("\r\27[K") end
    started = upto
    if interrupted then break end
    if s.failed >= limit then stopped = "on_error = " .. f.on_error; break end
    if w < #waves and s.failed > failed_before and w == 1 then stopped = "the canary wave failed"; break end
  end

  out:set("fleet", f.name)
  out:set("run", s.id)
  out:set("journal", path)
  out:set("members", json.array(results))
  out:set("counts", s.counts)
  out:set("not_started", #todo - s.done)
  out:say(progress_line(s, #todo) .. (#todo - s.done > 0
    and string.format(", %d not started", #todo - s.done) or ""))
  if interrupted then
    error(errors.new("interrupted", "fleet " .. f.name .. ": interrupted; running members "
      .. "finished or were cancelled, " .. (#todo - s.done) .. " not started", {
      hint = "continue with --resume " .. s.id }), 0)
  end
  if stopped or s.failed > 0 then
    error(errors.new("failed", string.format("fleet %s: %d of %d members failed%s", f.name,
      s.failed, #todo, stopped and ("; stopped (" .. stopped .. "), " .. (#todo - s.done)
      .. " not started") or ""), { hint = "the journal " .. path .. " has each member's "
      .. "error; fix them, then continue with --resume " .. s.id }), 0)
  end
  return 0
end

return deploy
