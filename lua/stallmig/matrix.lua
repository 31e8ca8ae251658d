-- stallmig.matrix — which migration is where: migrations down the side,
-- environments across, one state per cell. An environment that cannot be
-- read is shown as such instead of failing the whole report.
local db = require("stallmig.db")
local history = require("stallmig.history")
local migrations = require("stallmig.migrations")

local matrix = {}

-- Reads every environment; returns {envs = {{name, protected, promote_from,
-- error}}, rows = {{name, states = {env -> state}, applied_at = {env -> UTC
-- time of its latest attempt}}}}.
function matrix.read(ctx, found)
  local result, names, seen = { envs = {}, rows = {} }, {}, {}
  local by_name = {}
  for _, m in ipairs(found) do names[#names + 1] = m.name; seen[m.name] = true end
  for _, env in ipairs(ctx.config.environment_order) do
    local column = { name = env.name, protected = env.protected == true, promote_from = env.promote_from }
    local ok, plan = require("stallmig.interrupt").pcall(function()
      local conn <close> = db.connect(env.name)
      return migrations.plan(found, history.read(conn, true))
    end)
    if not ok and require("stallmig.interrupt").is(plan) then error(plan, 0) end
    if ok then
      column.states, column.applied_at = {}, {}
      for _, m in ipairs(plan.entries) do
        column.states[m.name] = m.state
        column.applied_at[m.name] = m.state ~= "pending" and m.row and m.row.finished_at or nil
        if not seen[m.name] then seen[m.name] = true; names[#names + 1] = m.name end
      end
    else
      column.error = type(plan) == "table" and tostring(plan.message) or tostring(plan)
    end
    result.envs[#result.envs + 1] = column
    by_name[env.name] = column
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local row = { name = name, states = {}, applied_at = {} }
    for _, column in ipairs(result.envs) do
      row.states[column.name] = column.states and (column.states[name] or "-") or "unreachable"
      row.applied_at[column.name] = column.applied_at and column.applied_at[name] or nil
    end
    result.rows[#result.rows + 1] = row
  end
  for _, column in ipairs(result.envs) do column.applied_at = nil end   -- kept per row
  return result
end

return matrix
