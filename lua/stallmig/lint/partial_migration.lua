-- partial-migration: a migration stallrun cannot run as one transaction
-- although it holds more than one unit of work, so a failure part-way
-- leaves it half-applied. A unit is a statement outside BEGIN ... COMMIT,
-- or one BEGIN ... COMMIT block.
local function second_unit(statements)
  local units, open = 0, false
  for i, st in ipairs(statements) do
    local k = st.transaction_control and st.text:upper():match("^%s*(%a+)")
    if k == "BEGIN" or k == "START" then
      open, units = true, units + 1
    elseif k then
      open = false
    elseif not open then
      units = units + 1
    end
    if units == 2 then return i end
  end
  return nil
end

return {
  id = "partial-migration",
  severity = "warning",
  explanation = "the migration does not run as one transaction, so a failure part-way leaves it half-applied",
  suggestion = "split it: the statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY, ...) alone in its own migration, the rest transactional",
  check = function(s)
    local m = s.migration
    if m.mode == "transactional" then return nil end
    if second_unit(m.script.statements) ~= s.index then return nil end
    return m.name .. " runs " .. m.mode .. " (" .. tostring(m.script.reason) .. "); statement " .. s.index
      .. " runs after earlier work is already committed"
  end,
}
