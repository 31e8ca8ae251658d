-- stallmig.fleetstatus — a fleet at a glance: each member's status read by
-- a member process of its own (status.lua --json, read-only, parallel at a
-- time), grouped by the migration each member has applied last; and the
-- journals of the fleet's runs (every shard's, merged: the latest record
-- of each member wins).
local fleet = require("stallmig.fleet")
local plan = require("stallmig.fleetplan")
local run = require("stallmig.fleetrun")
local files = require("stallmig.files")
local json = require("stallmig.json")

local status = {}

-- The latest journal record of each member, over every run in dir.
function status.last_runs(dir)
  local last = {}
  if files.kind(dir) ~= "dir" then return last end
  for _, e in ipairs(files.list(dir)) do
    if e.type == "file" and e.name:match("%.jsonl$") then
      for _, rec in ipairs(fleet.read_journal(dir .. "/" .. e.name)) do
        local seen = last[rec.member]
        if type(rec.member) == "string" and (not seen or (rec.at or "") >= (seen.at or "")) then
          last[rec.member] = rec
        end
      end
    end
  end
  return last
end

-- One member's row from its status process.
local function member_row(member, result, last)
  local outcome, message = run.outcome(result)
  local rep = result.report or {}
  local row = { name = member.name, url = member.url, last_run = last }
  if outcome == "unreachable" or outcome == "killed" or not rep.counts then
    row.state = outcome == "ok" and "failed" or outcome
    row.error = message
    return row
  end
  local latest
  for _, m in ipairs(type(rep.migrations) == "table" and rep.migrations or {}) do
    if m.state == "applied" then latest = m.name end
  end
  row.latest = latest
  row.counts = rep.counts
  row.state = rep.counts.failed > 0 and "failed" or rep.up_to_date and "up to date" or "behind"
  return row
end

-- {members = {row, ...} in the fleet's order, at = {latest -> count},
-- unreachable = {name...}, failed = {name...}}.
function status.read(ctx)
  local f = run.fleet_config(ctx)
  local shard_i, shard_n = plan.parse_shard(ctx.options.shard)
  local members = plan.slice(fleet.members(f.name), shard_i, shard_n)
  fleet.hold_interrupts()
  local last = status.last_runs(run.journal_dir(ctx, f.name))
  local rows = {}
  local args = run.member_args(ctx)
  local interrupted = run.pool(f.name, members, args, f.parallel, {
    may_start = function() return true end,
    done = function(member, result) rows[member.name] = member_row(member, result, last[member.name]) end,
  })
  local st = { members = json.array(), at = {}, unreachable = json.array(), failed = json.array(),
    interrupted = interrupted }
  for _, m in ipairs(members) do
    local row = rows[m.name]
    if row then
      st.members[#st.members + 1] = row
      if row.state == "unreachable" then st.unreachable[#st.unreachable + 1] = m.name
      elseif row.state ~= "up to date" and row.state ~= "behind" then st.failed[#st.failed + 1] = m.name
      end
      if row.counts then
        local key = row.latest or "(nothing applied)"
        st.at[key] = (st.at[key] or 0) + 1
      end
    end
  end
  return st
end

return status
