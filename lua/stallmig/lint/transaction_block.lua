-- transaction-block: the file's own BEGIN ... COMMIT done wrong: a BEGIN
-- that is never committed, a BEGIN inside an open block (the first COMMIT
-- ends both), or a statement that cannot run in a transaction block inside
-- one. squawk: ban-uncommitted-transaction, transaction-nesting,
-- ban-concurrent-index-creation-in-transaction.
local tree = require("stallmig.sqltree")

local function control_word(st)
  return st.transaction_control and st.text:upper():match("^%s*(%a+)")
end

local OPENS = { BEGIN = true, START = true }
local ENDS = { COMMIT = true, END = true, ROLLBACK = true, ABORT = true }

-- What in this statement refuses to run inside a transaction block, or nil.
local CONCURRENT = { IndexStmt = "CREATE INDEX CONCURRENTLY", DropStmt = "DROP INDEX CONCURRENTLY" }
local DATABASE = { CreatedbStmt = "CREATE DATABASE", DropdbStmt = "DROP DATABASE" }

local function not_in_block(s)
  local n = s.node
  if CONCURRENT[s.kind] and n.concurrent then return CONCURRENT[s.kind] end
  if s.kind == "ReindexStmt" and tree.has_def(n.params, "concurrently") then return "REINDEX CONCURRENTLY" end
  if s.kind == "VacuumStmt" and n.is_vacuumcmd then return "VACUUM" end
  return DATABASE[s.kind]
end

return {
  id = "transaction-block",
  severity = "warning",
  explanation = "a transaction block left open, nested, or holding a statement that refuses to run in one makes the migration fail or commit less than it seems",
  suggestion = "let stallrun run the file in one transaction (no BEGIN/COMMIT), and put CONCURRENTLY statements alone in their own migration",
  check = function(s, state)
    local file = state.file
    local word = control_word(s.statement)
    if OPENS[word] then
      local nested = file.open_block
      file.open_block = s.line
      if nested then return "BEGIN inside the transaction block opened on line " .. nested .. ": the first COMMIT ends both" end
      local later = s.migration.script.statements
      for i = s.index + 1, #later do
        if ENDS[control_word(later[i])] then return nil end
      end
      return "BEGIN is never committed: the transaction ends with the session and its work is rolled back"
    elseif ENDS[word] then
      file.open_block = nil
    elseif file.open_block then
      local what = not_in_block(s)
      if what then return what .. " cannot run inside the transaction block opened on line " .. file.open_block end
    end
    return nil
  end,
}
