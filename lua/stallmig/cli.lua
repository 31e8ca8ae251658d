-- stallmig.cli — what every workflow needs from its context table.
local errors = require("stallmig.error")

local cli = {}

local function names(config)
  local list = {}
  for _, env in ipairs(config.environment_order) do list[#list + 1] = env.name end
  return table.concat(list, ", ")
end

-- The environment chosen with --env (its settings from stallmig.ini).
function cli.require_env(ctx)
  if ctx.env == "all" then
    error(errors.new("usage", "this workflow takes one environment, not --env all"), 0)
  end
  if not ctx.env then
    error(errors.new("usage", "--env NAME is required (" .. ctx.config.path .. " defines: "
      .. names(ctx.config) .. ")"), 0)
  end
  return ctx.config.environments[ctx.env]
end

-- Refuses workflow options it does not know, naming them.
function cli.check_options(ctx, known)
  for name in pairs(ctx.options) do
    if not known[name] then
      local list = {}
      for k in pairs(known) do list[#list + 1] = "--" .. k end
      table.sort(list)
      error(errors.new("usage", "unknown option --" .. name .. (#list > 0
        and (" (this workflow takes " .. table.concat(list, ", ") .. ")") or "")), 0)
    end
  end
end

return cli
