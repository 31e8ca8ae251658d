-- advisory-unlock: a migration that releases advisory locks.
local tree = require("stallmig.sqltree")

local UNLOCKS = { pg_advisory_unlock_all = true, pg_advisory_unlock = true, pg_advisory_unlock_shared = true }

return {
  id = "advisory-unlock",
  severity = "error",
  explanation = "releasing advisory locks can release stallmig's deploy lock, so that a second deploy runs beside this one; the deploy gate then rolls the migration back (or, outside one transaction, stops after it)",
  suggestion = "leave advisory locks to the deploy; take your own with pg_advisory_xact_lock, which ends with the migration's transaction",
  check = function(s)
    -- the name is in the text wherever the tree calls it: most statements need no walk
    if not s.text:lower():find("advisory_unlock", 1, true) then return nil end
    local out = {}
    for _, name in ipairs(tree.calls(s.node)) do
      if UNLOCKS[name] then out[#out + 1] = name .. "() can release the deploy lock" end
    end
    return out
  end,
}
