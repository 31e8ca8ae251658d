-- status.lua — every migration with its state; exit 1 unless up to date (prisma migrate status)
--
--   stallrun workflows/status.lua --env staging [--all] [--json]
--   stallrun workflows/status.lua --env all           # which migration is where, everywhere
--   stallrun workflows/status.lua --env all --format html [--output FILE]   # the matrix and the promotion timeline
--   stallrun workflows/status.lua --fleet tenants [--json]   # every member of a fleet
--
-- Read-only: it never creates the history table or takes the deploy lock.
-- When every migration is applied it lists the ten applied last (--all:
-- every one; --json always lists every one): the history digest vouches
-- for the rest, so 10,000 history rows are not read to say "up to date".
-- The figures come from status.run / status.all (lua/stallmig/status.lua).
local ctx = ...
local cli = require("stallmig.cli")
local errors = require("stallmig.error")
local status = require("stallmig.status")
local report = require("stallmig.report")
-- what only --env all, --format html or --fleet use is required where it
-- is used: a status of one environment loads none of it

-- --env all: one matrix, migrations down the side, environments across;
-- --format html: the matrix and the promotion timeline as one page.
local function status_all(out, file)
  local all = status.all(ctx)
  if ctx.options.format == "html" then
    local page = require("stallmig.status_html").page(all)
    require("stallmig.artifact").deliver(out, page, file, all.in_sync and "in sync" or "not in sync")
    out:set("ok", all.in_sync)
    return all.in_sync and 0 or 1
  end
  local header = string.format("%-44s", "migration")
  for _, e in ipairs(all.environments) do header = header .. string.format(" %-12s", e.name) end
  out:say(header)
  for _, row in ipairs(all.migrations) do
    local line = string.format("%-44s", row.name)
    for _, e in ipairs(all.environments) do line = line .. string.format(" %-12s", row.states[e.name]) end
    out:say(line)
  end
  for _, e in ipairs(all.environments) do
    if e.error then out:say(e.name .. ": unreachable (" .. e.error .. ")") end
  end
  out:set("environments", all.environments)
  out:set("migrations", all.migrations)
  out:set("ok", all.in_sync)
  return all.in_sync and 0 or 1
end

-- --fleet NAME: how many members at each migration, which failed, which
-- are unreachable (--json: every member), and each member's last run.
local function status_fleet(out)
  local st = require("stallmig.fleetstatus").read(ctx)
  local names = {}
  for name in pairs(st.at) do names[#names + 1] = name end
  table.sort(names)
  out:say(string.format("%-50s %s", "applied last", "members"))
  for _, name in ipairs(names) do out:say(string.format("%-50s %d", name, st.at[name])) end
  for _, m in ipairs(st.members) do
    if m.state ~= "up to date" and m.state ~= "behind" or (m.last_run and m.last_run.outcome ~= "ok") then
      out:say(string.format("%s: %s%s%s", m.name, m.state, m.error and (" (" .. m.error .. ")") or "",
        m.last_run and m.last_run.outcome ~= "ok" and (", last run " .. m.last_run.run .. ": "
          .. m.last_run.outcome) or ""))
    end
  end
  local behind = 0
  for _, m in ipairs(st.members) do if m.state == "behind" then behind = behind + 1 end end
  out:say(string.format("fleet %s: %d members, %d up to date, %d behind, %d failed, %d unreachable.",
    ctx.fleet, #st.members, #st.members - behind - #st.failed - #st.unreachable, behind,
    #st.failed, #st.unreachable))
  out:set("fleet", ctx.fleet)
  out:set("members", st.members)
  out:set("at", st.at)
  out:set("failed", st.failed)
  out:set("unreachable", st.unreachable)
  local ok = behind == 0 and #st.failed == 0 and #st.unreachable == 0 and not st.interrupted
  out:set("ok", ok)
  return ok and 0 or 1
end

local RECENT = 10   -- migrations listed when everything is applied

return report.run(ctx, "status", function(out)
  if ctx.fleet and not ctx.member then
    cli.check_options(ctx, { shard = true, ["journal-dir"] = true })
    return status_fleet(out)
  end
  cli.check_options(ctx, { all = true, format = true, output = true })
  local format, output = ctx.options.format, ctx.options.output
  if (format or output) and (format ~= "html" or ctx.env ~= "all" or ctx.json) then
    error(errors.new("usage", "status writes --format html [--output FILE] for --env all only (the matrix)",
      { hint = "stallrun workflows/status.lua --env all --format html --output status.html" }), 0)
  end
  if ctx.env == "all" then return status_all(out, output and require("stallmig.artifact").open(output)) end

  -- 1. The folder and the history, joined by folder name (or, when the
  --    digest says everything is applied, the last ten).
  local all = ctx.options.all or ctx.json
  local st = status.run(ctx, cli.require_env(ctx).name, { recent = not all and RECENT or nil })
  for _, w in ipairs(st.warnings) do out:warn(w) end

  -- 2. One row per migration: state, when it was applied, how long it took.
  out:say(string.format("%-50s %-9s %-20s %s", "migration", "state", "applied at (UTC)", "took"))
  for _, m in ipairs(st.migrations) do
    out:say(string.format("%-50s %-9s %-20s %s", m.name, m.state, m.applied_at or "",
      m.duration_ms and report.ms(m.duration_ms / 1000) or ""))
  end

  if st.recent and st.total > #st.migrations then
    out:say(string.format("(the %d applied last of %d; --all lists every one)", #st.migrations, st.total))
  end

  -- 3. Up to date means every migration applied: anything else exits 1 (CI gates on it).
  local c = st.counts
  out:set("migrations", st.migrations)
  out:set("counts", c)
  out:set("up_to_date", st.up_to_date)
  out:set("ok", st.up_to_date)
  out:say(string.format("%s: %d applied, %d pending, %d failed, %d modified, %d missing.",
    st.environment, c.applied, c.pending, c.failed, c.modified, c.missing))
  if c.expanded > 0 then   -- zero-downtime changes waiting for their contract (docs/zero-downtime.md)
    out:say(string.format("%d expanded, not yet completed: once the new version is rolled out, "
      .. "stallrun workflows/complete.lua --env %s --rollout-confirmed", c.expanded, st.environment))
  end
  return st.up_to_date and 0 or 1
end)
