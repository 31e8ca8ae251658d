-- stallmig.fleetplan — which members a fleet run takes, and in which waves:
-- the shard's slice (a stable hash of each member's name), the waves
-- ("1, 10%, 100%": counts or shares of the members, cumulative), and how
-- many failed members stop the run (on_error). Plain Lua, no I/O.
local errors = require("stallmig.error")

local plan = {}

-- FNV-1a, 32 bits, of a member's name: the same on every machine and run.
function plan.hash(name)
  local h = 2166136261
  for i = 1, #name do
    h = ((h ~ name:byte(i)) * 16777619) & 0xffffffff
  end
  return h
end

-- "--shard i/N" -> i, N (i from 0 to N-1, as JOB_COMPLETION_INDEX and a
-- GitHub Actions matrix's job-index count); nil without --shard.
function plan.parse_shard(text)
  if text == nil then return nil end
  local i, n = tostring(text):match("^(%d+)/(%d+)$")
  i, n = tonumber(i), tonumber(n)
  if not i or n < 1 or n > 1024 or i >= n then
    error(errors.new("usage", "--shard " .. tostring(text) .. ": expected i/N with i from 0 to "
      .. "N-1 and N from 1 to 1024 (e.g. --shard $JOB_COMPLETION_INDEX/4)"), 0)
  end
  return i, n
end

-- The members of shard i of n (all of them without a shard), in order.
function plan.slice(members, i, n)
  if not i then return members end
  local mine = {}
  for _, m in ipairs(members) do
    if plan.hash(m.name) % n == i then mine[#mine + 1] = m end
  end
  return mine
end

-- The waves over total members: a list of how many members have started
-- by the end of each wave, increasing, the last always total.
function plan.waves(text, total)
  local ends = {}
  for item in (text or "100%"):gmatch("[^,]+") do
    local n, percent = item:match("^%s*(%d+)%s*(%%?)%s*$")
    n = tonumber(n)
    local upto = percent == "%" and math.ceil(total * n / 100) or n
    upto = math.min(upto, total)
    if upto > (ends[#ends] or 0) then ends[#ends + 1] = upto end
  end
  if (ends[#ends] or 0) < total then ends[#ends + 1] = total end
  return ends
end

-- How many failed members stop the run: stop 1, continue never, "N" N,
-- "N%" that share of total (at least 1).
function plan.failure_limit(on_error, total)
  if on_error == nil or on_error == "stop" then return 1 end
  if on_error == "continue" then return math.huge end
  local n, percent = on_error:match("^(%d+)(%%?)$")
  n = tonumber(n)
  if percent == "%" then return math.max(1, math.ceil(total * n / 100)) end
  return n
end

return plan
