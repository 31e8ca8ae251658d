-- session-set: SET (not SET LOCAL) in a transactional migration.
return {
  id = "session-set",
  severity = "warning",
  explanation = "a session-level SET stays in force for every later statement of the session, not only this migration's transaction (stallrun resets it afterwards, but a copy of the file run elsewhere does not)",
  suggestion = "SET LOCAL name = value: it ends with the migration's transaction",
  check = function(s)
    local n = s.node
    if s.kind ~= "VariableSetStmt" or n.is_local or s.migration.mode ~= "transactional" then return nil end
    if n.kind ~= "VAR_SET_VALUE" and n.kind ~= "VAR_SET_DEFAULT" and n.kind ~= "VAR_SET_CURRENT" then return nil end
    return "SET " .. tostring(n.name) .. " without LOCAL lasts beyond this migration's transaction"
  end,
}
