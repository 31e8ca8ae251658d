-- stallmig.promotion — "test in staging first", as a gate: an environment
-- with promote_from = staging only takes migrations that staging has
-- applied successfully with the same checksum. Staging is only read.
local db = require("stallmig.db")
local history = require("stallmig.history")
local errors = require("stallmig.error")

local promotion = {}

-- Checks plan.pending against env.promote_from's history. Returns nil when
-- there is no gate, or the text of an override (--skip-promotion-check
-- --reason TEXT) to record; raises kind "refused" otherwise.
function promotion.check(ctx, env, plan)
  local from = env.promote_from
  if not from or #plan.pending == 0 then return nil end
  local o = ctx.options
  if o["skip-promotion-check"] then
    if type(o.reason) ~= "string" or o.reason:match("^%s*$") then
      error(errors.new("usage", "--skip-promotion-check needs --reason TEXT (it is recorded)"), 0)
    end
    return "promotion check against " .. from .. " skipped: " .. o.reason
  end
  local ok, rows = pcall(function()
    local conn <close> = db.connect(from)
    return history.read(conn).latest
  end)
  if not ok and type(rows) == "table" and rows.kind == "interrupted" then error(rows, 0) end
  if not ok then
    error(errors.new("refused", string.format("%s only takes migrations %s has applied, and %s "
      .. "cannot be read: %s", env.name, from, from, type(rows) == "table" and tostring(rows.message) or tostring(rows)),
      { hint = "make " .. from .. " reachable, or override (recorded): --skip-promotion-check --reason TEXT" }), 0)
  end
  local missing = {}
  for _, m in ipairs(plan.pending) do
    local row = rows[m.name]
    if not row or row.outcome ~= "applied" then
      missing[#missing + 1] = "  " .. m.name .. " (not applied in " .. from .. ")"
    elseif row.checksum ~= m.checksum then
      missing[#missing + 1] = "  " .. m.name .. " (" .. from .. " applied a different version of the file)"
    end
  end
  if #missing > 0 then
    error(errors.new("refused", string.format("%s only takes migrations %s has applied; %d are not:\n%s",
      env.name, from, #missing, table.concat(missing, "\n")),
      { hint = "deploy them to " .. from .. " first: stallrun workflows/deploy.lua --env " .. from }), 0)
  end
  return nil
end

return promotion
