-- stallmig.lint — check pending migrations for data loss, breaking changes,
-- long locks and transaction hazards, from PostgreSQL's own parse tree.
--   local rules = lint.rules(ctx.config)     -- built-in + [project] lint_rules
--   local state = lint.context()             -- one per run, migrations in order
--   local findings, targets = lint.check(m, rules, state)
-- Rules are small modules (docs/lint.md); the tree readers are stallmig.sqltree,
-- what a statement does to which table is stallmig.lintfacts.
local sql = require("stallmig.sql")
local files = require("stallmig.files")
local errors = require("stallmig.error")
local facts = require("stallmig.lintfacts")
local tree = require("stallmig.sqltree")
local lintstate = require("stallmig.lintstate")
local suppress = require("stallmig.lintallow")
local locks = require("stallmig.locks")

local M = {}

M.builtin = {
  "drop_table", "drop_column", "drop_schema", "truncate", "delete_without_where",
  "update_without_where", "narrowing_type", "drop_type",
  "rename_table", "rename_column", "set_not_null", "change_column_type",
  "index_not_concurrent", "constraint_not_valid", "volatile_default", "set_not_null_scan",
  "rewrite_table", "lock_table", "lock_timeout",
  "partial_migration", "session_set", "advisory_unlock",
  "add_column_not_null", "drop_index_not_concurrent", "identifier_too_long", "drop_database",
  "drop_not_null", "domain_constraint", "transaction_block",
}

local FIELDS = { id = "string", severity = "string", explanation = "string", suggestion = "string",
  check = "function" }

local function rule_problem(rule)
  if type(rule) ~= "table" then return "it returns a " .. type(rule) .. ", not a rule table" end
  for field, kind in pairs(FIELDS) do
    if type(rule[field]) ~= kind then return "its field '" .. field .. "' is not a " .. kind end
  end
  if not rule.id:match("^[a-z][a-z0-9-]*$") then return "its id '" .. rule.id .. "' is not lower-case-with-dashes" end
  if rule.severity ~= "error" and rule.severity ~= "warning" then
    return "its severity is '" .. rule.severity .. "', not 'error' or 'warning'"
  end
  return nil
end

local function bad_rule(file, why)
  return errors.new("config", "lint rule " .. file .. ": " .. why,
    { file = file, hint = "a rule file returns {id, severity, explanation, suggestion, check}; see docs/lint.md" })
end

-- A team rule file, loaded in the normal (strict-globals) environment.
local function load_team_rule(path)
  local chunk, why = loadfile(path, "t")
  if not chunk then error(bad_rule(path, why), 0) end
  local ok, rule = pcall(chunk)
  if not ok then error(bad_rule(path, errors.is(rule) and rule.message or tostring(rule)), 0) end
  local problem = rule_problem(rule)
  if problem then error(bad_rule(path, problem), 0) end
  rule.file, rule.team = path, true
  return rule
end

local function add(list, seen, rule)
  if seen[rule.id] then
    error(bad_rule(rule.file, "its id '" .. rule.id .. "' is already used by " .. seen[rule.id]), 0)
  end
  seen[rule.id] = rule.file
  list[#list + 1] = rule
  list[rule.id] = rule
end

-- Built-in rules, then every *.lua in config.lint_rules (byte-wise order,
-- dot files skipped).
function M.rules(config)
  local list, seen = {}, {}
  for _, name in ipairs(M.builtin) do
    local rule = require("stallmig.lint." .. name)
    rule.file = "lua/stallmig/lint/" .. name .. ".lua"
    add(list, seen, rule)
  end
  local dir = config and config.lint_rules
  if dir then
    if files.kind(dir) ~= "dir" then
      error(errors.new("config", "the lint rules folder " .. dir .. " does not exist",
        { file = dir, hint = "create it, or fix [project] lint_rules in " .. tostring(config.path) }), 0)
    end
    for _, entry in ipairs(files.list(dir)) do
      if entry.type == "file" and entry.name:match("^[^.].*%.lua$") then -- not editors' .#x.lua
        add(list, seen, load_team_rule(dir .. "/" .. entry.name))
      end
    end
  end
  return list
end

-- State across the pending migrations of one run. opts (optional):
-- {schema = a stallmig.snapshot of the target, so ALTER COLUMN TYPE knows the
-- current type; lock_timeout = the environment's lock_timeout, if set}.
function M.context(opts)
  return lintstate.new(opts)
end

-- ---- one statement as a rule sees it -------------------------------------

local Statement = {}
Statement.__index = Statement

local NONE = setmetatable({}, { __newindex = function() error("lint: NONE is read-only", 2) end })

-- The facts of one action (lintfacts) on tables that exist before this run.
function Statement:existing(action)
  return self.existing_by_action[action] or NONE
end

-- action -> facts on existing tables, built once per statement for existing().
local function by_action(facts)
  local map = {}
  for _, f in ipairs(facts) do
    if not f.new_table then
      local list = map[f.action]
      if list then list[#list + 1] = f else map[f.action] = { f } end
    end
  end
  return map
end

-- "schema.table" or "table", for messages.
function Statement.name(f)
  return tree.qualified(f.schema, f.table)
end

-- nil | "message" | {message, severity} | a list of those -> a list of results
-- (the rule's own list, its strings made results in place: no copy).
local function results_of(value)
  if not value then return NONE end
  if type(value) == "string" then return { { message = value } } end
  if value.message then return { value } end
  for i = 1, #value do
    if type(value[i]) == "string" then value[i] = { message = value[i] } end
  end
  return value
end

local function finding(rule, m, s, result, suppressed)
  local st = s.statement
  return {
    rule = rule.id, severity = result.severity or rule.severity, message = result.message,
    explanation = rule.explanation, suggestion = rule.suggestion,
    recipe = require("stallmig.recipes").for_rule(rule.id),   -- docs/zero-downtime.md
    file = m.file, line = result.line or st.line, column = result.column or st.column,
    statement = s.index, suppressed = suppressed,
  }
end

local function run_rule(rule, s, state, m)
  if not rule.team then return results_of(rule.check(s, state)) end -- a built-in's bug raises as it is
  local ok, value = pcall(rule.check, s, state)
  if ok then return results_of(value) end
  local why = errors.is(value) and value.message or tostring(value)
  error(errors.new("config", "lint rule " .. rule.id .. " (" .. tostring(rule.file) .. ") failed on "
    .. m.file .. ":" .. s.statement.line .. ": " .. why,
    { file = rule.file, hint = "fix the rule, or remove it from the lint rules folder" }), 0)
end

local function target_of(f, s)
  return { action = f.action, schema = f.schema, table = f.table, column = f.column,
    new_type = f.new_type, new_table = f.new_table or false, statement = s.index,
    line = s.statement.line, what = f.what, type_name = f.type_name, cascade = f.cascade }
end

local function is_target(f)
  if not facts.target_actions[f.action] then return false end
  -- a column added in this run holds nothing yet: nothing to measure
  if f.action == "add_required" and f.emptied then return false end -- emptied earlier in the run
  return not (f.new_column and (f.action == "drop_column" or f.action == "alter_type"))
end

-- The tree's statement that covers the script's statement st (same parse).
local function raw_for(raws, i, st)
  local raw = raws[i]
  local from = (raw and raw.stmt_location or 0) + 1
  if raw == nil or st.offset < from or (raw.stmt_len and raw.stmt_len > 0 and st.offset > from + raw.stmt_len) then
    error(errors.new("parse", "the parse tree and the statement list of a migration disagree at statement " .. i), 0)
  end
  return raw
end

-- What a report shows of one statement: where it is, its SQL (the first
-- SQL_SHOWN bytes) and the table locks it takes (stallmig.locks); a lock on
-- a table created earlier in this run is marked new_table (nobody waits).
local SQL_SHOWN = 2000

local function statement_summary(s, state)
  local held = locks.of(s.kind, s.node)
  for _, l in ipairs(held) do l.new_table = state:is_new_table(l.schema, l.table) or nil end
  local text = s.text or ""
  return { index = s.index, line = s.line, kind = s.kind, sql = #text > SQL_SHOWN and text:sub(1, SQL_SHOWN) or text,
    sql_cut = #text > SQL_SHOWN or nil, locks = held }
end

-- A file of many statements (a data migration of 100,000 INSERTs) lists
-- the first LISTED; after them only statements that lock an existing table
-- against more than writes (SHARE UPDATE EXCLUSIVE and up), at most
-- LISTED_MAX in all. The rest are counted.
local LISTED, LISTED_MAX = 200, 1000

local function keep(statements, summary)
  if #statements < LISTED then return true end
  if #statements >= LISTED_MAX then return false end
  for _, l in ipairs(summary.locks) do
    if l.level >= 4 and not l.new_table then return true end
  end
  return false
end

-- lint.check(m, rules, state [, statements]) -> findings, targets, omitted;
-- with a `statements` list, also appends a statement_summary per statement
-- (`omitted`: how many it left out, see LISTED).
function M.check(m, rules, state, statements)
  local findings, targets, omitted = {}, {}, 0
  local raws = (m.script.tree or sql.parse(m.content)).stmts or {} -- one parse when migrations.load kept the tree
  state:begin_file(m)
  local previous_end = nil
  for i, st in ipairs(m.script.statements) do
    local kind, node = tree.node(raw_for(raws, i, st).stmt)
    local s = setmetatable({ index = i, kind = kind, node = node, statement = st, migration = m,
      text = st.text, line = st.line, column = st.column }, Statement)
    s.facts = facts.of(kind, node, function(...) return state:column_type(...) end)
    state:mark(s.facts)
    s.existing_by_action = by_action(s.facts)
    if statements then
      local summary = statement_summary(s, state)
      if keep(statements, summary) then statements[#statements + 1] = summary else omitted = omitted + 1 end
    end
    local allow = suppress.read(m, previous_end, i, rules, findings)
    for r = 1, #rules do
      local rule = rules[r]
      local results = run_rule(rule, s, state, m)
      for k = 1, #results do
        findings[#findings + 1] = finding(rule, m, s, results[k], allow[rule.id])
      end
    end
    for _, f in ipairs(s.facts) do
      if is_target(f) then targets[#targets + 1] = target_of(f, s) end
    end
    state:record(s)
    previous_end = st.offset + st.length
  end
  return findings, targets, omitted
end

-- Findings that count toward the verdict (not suppressed), by severity.
function M.counts(findings)
  local n = { error = 0, warning = 0, suppressed = 0 }
  for _, f in ipairs(findings) do
    if f.suppressed then n.suppressed = n.suppressed + 1 else n[f.severity] = n[f.severity] + 1 end
  end
  return n
end

return M
