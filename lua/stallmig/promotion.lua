-- stallmig.promotion — "test in staging first": an environment with
-- promote_from = staging only takes migrations that staging has applied
-- successfully with the same checksum. Staging is only read. The change
-- gate (src/lapi_change.c) asks this for every pending migration and
-- decides; --skip-promotion-check --reason is the host's override.
local db = require("stallmig.db")
local history = require("stallmig.history")
local errors = require("stallmig.error")
local interrupt = require("stallmig.interrupt")

local promotion = {}

-- The migrations of `pending` that `from` has not applied with the same
-- checksum, as sentences ({} when none). Raises kind "refused" when `from`
-- cannot be read: an unreachable source is never taken for a yes. A phased
-- migration `from` has expanded counts as applied there for deploy; with
-- `complete` (workflows/complete.lua) only one it completed counts.
local EXPANDED = { expanded = true, contract_failed = true }

function promotion.missing(env, from, pending, complete)
  local ok, rows = interrupt.pcall(function()
    local conn <close> = db.connect(from)
    return history.read(conn).latest
  end)
  if not ok and interrupt.is(rows) then error(rows, 0) end
  if not ok then
    error(errors.new("refused", string.format("%s only takes migrations %s has applied, and %s "
      .. "cannot be read: %s", env.name, from, from, type(rows) == "table" and tostring(rows.message) or tostring(rows)),
      { hint = "make " .. from .. " reachable, or override (recorded): --skip-promotion-check --reason TEXT" }), 0)
  end
  local missing = {}
  for _, m in ipairs(pending) do
    local row = rows[m.name]
    local done = row and (row.outcome == "applied" or (not complete and EXPANDED[row.outcome] and not row.partial))
    if not done then
      missing[#missing + 1] = m.name .. (complete and row and EXPANDED[row.outcome]
        and " (expanded in " .. from .. ", not yet completed there)" or (" (not applied in " .. from .. ")"))
    elseif row.checksum ~= m.checksum then
      missing[#missing + 1] = m.name .. " (" .. from .. " applied a different version of the file)"
    end
  end
  return missing
end

return promotion
