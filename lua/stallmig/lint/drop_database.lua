-- drop-database: DROP DATABASE in a migration. squawk: ban-drop-database.
return {
  id = "drop-database",
  severity = "error",
  explanation = "DROP DATABASE deletes a whole database with every table in it",
  suggestion = "drop databases by hand, after a backup, never from a migration",
  check = function(s)
    local out = {}
    for _, f in ipairs(s.facts) do
      if f.action == "drop_database" then out[#out + 1] = "DROP DATABASE " .. f.database .. " deletes a whole database" end
    end
    return out
  end,
}
