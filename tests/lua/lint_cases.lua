-- lint_cases.lua — stallmig.lint on SQL that must and must not trigger each
-- rule (run by tests/integration/test_lint.sh through stallrun; no server).
-- Arguments: a folder with a good team rule, then folders with broken ones.
-- Every failed expectation prints "FAIL case: why"; exit 1 if any failed.
local ctx = ...
local sql = require("stallmig.sql")
local lint = require("stallmig.lint")
local files = require("stallmig.files")

local rules = lint.rules({})
local failures, cases = 0, 0

local function expect(name, ok, why)
  cases = cases + 1
  if not ok then
    failures = failures + 1
    print("FAIL " .. name .. ": " .. why)
  end
end

-- A migration as migrations.load makes it, from SQL text (the real sql.script).
local function migration(text, i)
  if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end
  local script = sql.script(text)
  return { name = string.format("2026010100%04d_case", i), file = "migrations/case" .. i .. "/migration.sql",
    content = text, script = script, mode = script.mode }
end

-- Lints one text, or a list of texts (the pending migrations of one run).
local function run(texts, opts, with_rules)
  if type(texts) == "string" then texts = { texts } end
  local state, findings, targets = lint.context(opts), {}, {}
  for i, text in ipairs(texts) do
    local f, t = lint.check(migration(text, i), with_rules or rules, state)
    table.move(f, 1, #f, #findings + 1, findings)
    table.move(t, 1, #t, #targets + 1, targets)
  end
  return findings, targets
end

local function of_rule(findings, id)
  local out = {}
  for _, f in ipairs(findings) do
    if f.rule == id then out[#out + 1] = f end
  end
  return out
end

local function listing(findings)
  local lines = {}
  for _, f in ipairs(findings) do
    lines[#lines + 1] = "  " .. f.rule .. " " .. f.severity .. " " .. f.line .. ":" .. f.column .. " " .. f.message
  end
  return #lines > 0 and "\n" .. table.concat(lines, "\n") or " (no findings)"
end

local function fires(id, name, texts, opts, severity)
  local findings = run(texts, opts)
  local mine = of_rule(findings, id)
  expect(id .. " fires on " .. name, #mine > 0, "no finding of " .. id .. " in:" .. listing(findings))
  if severity and mine[1] then -- one of its findings has it (a run may hold a warning and an error)
    local seen = {}
    for _, f in ipairs(mine) do seen[f.severity] = true end
    expect(id .. " severity on " .. name, seen[severity] == true,
      "severity " .. mine[1].severity .. ", expected " .. severity)
  end
  return mine
end

local function quiet(id, name, texts, opts)
  local findings = run(texts, opts)
  expect(id .. " quiet on " .. name, #of_rule(findings, id) == 0, id .. " fired:" .. listing(of_rule(findings, id)))
end

local snapshot = { tables = { ["public.users"] = { columns = {
  email = { type = "character varying(200)" }, id = { type = "bigint" }, bio = { type = "text" },
  price = { type = "numeric(10,2)" }, code = { type = "character varying(20)" },
  created_at = { type = "timestamp with time zone" },
} } } }
local known = { schema = snapshot }

-- For each rule a case file, tests/lint/<rule-id>.sql (tests/lint/README.md):
-- "-- case: NAME" starts a case, "-- expect: RULE [SEVERITY]" says it fires
-- (at that severity), "-- expect: no RULE" that it stays quiet, and
-- "-- next file" starts the next migration of the same run. A rule's first
-- single-file case that fires it is also wrapped in a string, a comment and
-- a function body, where it must not fire.
local CASES = ctx.root .. "/tests/lint"

local function read_cases(path)
  local out, case = {}, nil
  for line in (files.read(path) .. "\n"):gmatch("(.-)\r?\n") do
    local name = line:match("^%-%- case:%s*(.-)%s*$")
    local want = line:match("^%-%- expect:%s*(.-)%s*$")
    if name then
      case = { name = name, expect = {}, texts = { {} } }
      out[#out + 1] = case
    elseif case and want then
      local id = want:match("^no%s+(%S+)$")
      if id then
        case.expect[#case.expect + 1] = { id = id, quiet = true }
      else
        local rule, severity = want:match("^(%S+)%s*(%a*)$")
        case.expect[#case.expect + 1] = { id = rule, severity = severity ~= "" and severity or nil }
      end
    elseif case and line:match("^%-%- next file%s*$") then
      case.texts[#case.texts + 1] = {}
    elseif case then
      table.insert(case.texts[#case.texts], line)
    end
  end
  for _, c in ipairs(out) do
    for i, lines in ipairs(c.texts) do c.texts[i] = table.concat(lines, "\n") end
  end
  return out
end

-- Runs one case; returns the first single-file text that fired rule_id.
local function check_case(rule_id, c)
  local fired_text
  for _, e in ipairs(c.expect) do
    local label = "case '" .. c.name .. "' of " .. rule_id .. ".sql"
    if e.quiet then
      quiet(e.id, label, c.texts, known)
    else
      local mine = fires(e.id, label, c.texts, known, e.severity)
      if #mine > 0 and e.id == rule_id and #c.texts == 1 then fired_text = c.texts[1] end
    end
  end
  return fired_text
end

local function wrappers(text)
  local flat = text:gsub("\n", " ")
  return {
    ["a string literal"] = "SELECT '" .. text:gsub("'", "''") .. "';",
    ["an E'' string"] = "SELECT E'" .. text:gsub("\\", "\\\\"):gsub("'", "\\'") .. "';",
    ["a line comment"] = "-- " .. flat .. "\nSELECT 1;",
    ["a block comment"] = "/* " .. text .. " */ SELECT 1;",
    ["a dollar-quoted function body"] = "CREATE FUNCTION lint_case() RETURNS void LANGUAGE plpgsql AS $body$\nBEGIN\n"
      .. text .. "\nEND\n$body$;",
  }
end

for _, rule in ipairs(rules) do
  local path = CASES .. "/" .. rule.id .. ".sql"
  local present = files.kind(path) == "file"
  expect("case file for " .. rule.id, present, "no " .. path)
  if present then
    local first, fire, still = nil, 0, 0
    for _, c in ipairs(read_cases(path)) do
      local fired = check_case(rule.id, c) -- every case runs; the first that fired is wrapped
      first = first or fired
      for _, e in ipairs(c.expect) do
        if e.id == rule.id then
          if e.quiet then still = still + 1 else fire = fire + 1 end
        end
      end
    end
    expect("cases of " .. rule.id, fire > 0 and still > 0, fire .. " case(s) that fire it, " .. still
      .. " that must not: a case file has both")
    if first then
      for where, text in pairs(wrappers(first)) do quiet(rule.id, where, text, known) end
    end
  end
end

-- every file in lua/stallmig/lint/ is a built-in rule that lint.rules loads
do
  local listed = {}
  for _, name in ipairs(lint.builtin) do listed[name .. ".lua"] = true end
  for _, entry in ipairs(require("stallmig.files").list(ctx.root .. "/lua/stallmig/lint")) do
    expect("built-in rule file " .. entry.name, listed[entry.name] == true, "not in lint.builtin")
  end
end

-- ---- severities and messages ------------------------------------------

local data_loss = { "drop-table", "drop-column", "drop-schema", "truncate", "delete-without-where",
  "update-without-where", "narrowing-type", "drop-type" }
for _, id in ipairs(data_loss) do
  expect("severity of " .. id, rules[id] and rules[id].severity == "error", "data loss is an error")
end
for _, rule in ipairs(rules) do
  expect("fields of " .. rule.id, #rule.explanation > 10 and #rule.suggestion > 10 and not rule.explanation:find("\n"),
    "explanation and suggestion are one line each")
end

local narrowing = {
  { "ALTER TABLE users ALTER COLUMN email TYPE varchar(20);", "varchar(200) -> varchar(20): values longer than 20" },
  { "ALTER TABLE users ALTER COLUMN bio TYPE integer USING bio::integer;", "text -> integer: text values that are not valid integer" },
  { "ALTER TABLE users ALTER COLUMN id TYPE int;", "bigint -> integer: values outside the range of integer" },
  { "ALTER TABLE users ALTER COLUMN price TYPE numeric(10,1);", "digits after the point are rounded from 2 to 1" },
  { "ALTER TABLE users ALTER COLUMN created_at TYPE date;", "the time of day is lost" },
}
for _, c in ipairs(narrowing) do
  local mine = fires("narrowing-type", c[1], c[1], known, "error")
  expect("narrowing message for " .. c[1], mine[1] and mine[1].message:find(c[2], 1, true) ~= nil,
    "wanted [" .. c[2] .. "] in: " .. (mine[1] and mine[1].message or "nothing"))
end
quiet("narrowing-type", "a wider varchar", "ALTER TABLE users ALTER COLUMN code TYPE varchar(50);", known)
quiet("narrowing-type", "a wider numeric", "ALTER TABLE users ALTER COLUMN price TYPE numeric(12,2);", known)
quiet("rewrite-table", "a wider varchar (no rewrite)", "ALTER TABLE users ALTER COLUMN code TYPE varchar(50);", known)
fires("rewrite-table", "a narrower varchar (rewrite)", "ALTER TABLE users ALTER COLUMN code TYPE varchar(10);", known)
fires("narrowing-type", "an unknown current type", "ALTER TABLE users ALTER COLUMN email TYPE varchar(20);", nil, "warning")
quiet("narrowing-type", "an unknown current type to text", "ALTER TABLE users ALTER COLUMN email TYPE text;")
do
  local mine = fires("narrowing-type", "a second ALTER in the run, type known from the first",
    { "ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);", "ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);" })
  expect("narrowing-type knows the type from the first ALTER", #mine == 2 and mine[2].severity == "error"
    and mine[2].message:find("varchar(100) -> varchar(10)", 1, true) ~= nil, listing(mine))
end
fires("lock-timeout", "the environment's lock_timeout is 0", "DROP TABLE users;", { lock_timeout = "0" })
quiet("lock-timeout", "the environment sets lock_timeout", "DROP TABLE users;", { lock_timeout = "5s" })
expect("lock-timeout once per file", #of_rule(run("ALTER TABLE a ADD x int; ALTER TABLE b ADD y int;"), "lock-timeout") == 1,
  "reported more than once")
expect("lock-timeout again in the next file", #of_rule(run({ "ALTER TABLE a ADD x int;", "ALTER TABLE b ADD y int;" }),
  "lock-timeout") == 2, "not reported for each file")

-- ---- findings and targets: fields ----------------------------------------

do
  local findings = run("CREATE TABLE a (id int);\n\n  DROP TABLE users;\n")
  local f = of_rule(findings, "drop-table")[1] or {}
  expect("finding fields", f.file == "migrations/case1/migration.sql" and f.line == 3 and f.column == 3
    and f.statement == 2 and f.severity == "error" and f.message == "DROP TABLE users deletes the table and all its rows"
    and f.explanation == rules["drop-table"].explanation and f.suggestion == rules["drop-table"].suggestion
    and f.suppressed == nil, "got" .. listing({ f.rule and f or { rule = "?", severity = "?", line = 0, column = 0, message = "" } }))
end

local function find_target(targets, want)
  for _, t in ipairs(targets) do
    local all = true
    for k, v in pairs(want) do
      if t[k] ~= v then all = false end
    end
    if all then return t end
  end
  return nil
end

local function describe_targets(targets)
  local out = {}
  for _, t in ipairs(targets) do
    out[#out + 1] = string.format("  %s %s.%s.%s %s new=%s #%d %s", t.action, tostring(t.schema), tostring(t.table),
      tostring(t.column), tostring(t.new_type), tostring(t.new_table), t.statement, tostring(t.what))
  end
  return "\n" .. table.concat(out, "\n")
end

do
  local _, targets = run({
    "CREATE TABLE n (id int);\nCREATE INDEX ON n (id);\nALTER TABLE users ALTER COLUMN email TYPE varchar(20);\n"
      .. "DROP SCHEMA billing;\nDROP TABLE billing.invoices;\nTRUNCATE logs;\nDELETE FROM sessions;\nUPDATE users SET bio = NULL;\n"
      .. "ALTER TABLE users DROP COLUMN bio;\nVACUUM FULL users;\nALTER TABLE users ADD COLUMN tok uuid DEFAULT gen_random_uuid();\n"
      .. "ALTER TABLE users ADD COLUMN tmp int; ALTER TABLE users DROP COLUMN tmp;\nLOCK TABLE users;",
    "CREATE INDEX ON n (id);" })
  local wanted = {
    { action = "lock", table = "n", new_table = true, statement = 2, line = 2, what = "CREATE INDEX without CONCURRENTLY" },
    { action = "alter_type", table = "users", column = "email", new_type = "varchar(20)", new_table = false, statement = 3 },
    { action = "rewrite", table = "users", column = "email", what = "ALTER COLUMN TYPE" },
    { action = "drop_schema", schema = "billing", statement = 4 },
    { action = "drop_table", schema = "billing", table = "invoices", statement = 5 },
    { action = "truncate", table = "logs" }, { action = "delete_all", table = "sessions" },
    { action = "update_all", table = "users" }, { action = "drop_column", table = "users", column = "bio" },
    { action = "rewrite", table = "users", what = "VACUUM FULL" },
    { action = "rewrite", table = "users", column = "tok", what = "ADD COLUMN with a volatile default" },
    { action = "lock", table = "users", what = "LOCK TABLE" },
    { action = "lock", table = "n", new_table = true, statement = 1, line = 1 },
  }
  for _, w in ipairs(wanted) do
    local parts = {}
    for k, v in pairs(w) do parts[#parts + 1] = k .. "=" .. tostring(v) end
    expect("target " .. table.concat(parts, " "), find_target(targets, w) ~= nil, "not among:" .. describe_targets(targets))
  end
  local _, fk_new = run("CREATE TABLE c (u int); ALTER TABLE c ADD FOREIGN KEY (u) REFERENCES users (id);")
  expect("no lock target on the table a new table's foreign key references", find_target(fk_new, { action = "lock", table = "users" }) == nil,
    "a lock target:" .. describe_targets(fk_new))
  expect("lock target on the table an existing table's foreign key references",
    find_target(select(2, run("ALTER TABLE b ADD FOREIGN KEY (u) REFERENCES users (id);")),
      { action = "lock", table = "users", what = "ADD FOREIGN KEY (referenced table)" }) ~= nil, "no lock target for users")
  expect("no target for a column added in the run", find_target(targets, { action = "drop_column", column = "tmp" }) == nil,
    "a drop_column target for tmp")
  expect("no schema for unqualified names", find_target(targets, { action = "truncate" }).schema == nil, "schema set")
end

-- ---- suppression comments --------------------------------------------------

do
  local findings = run("CREATE TABLE a (id int);\n-- stallmig:allow drop-table: replaced by members in 2025-11\nDROP TABLE users;")
  local f = of_rule(findings, "drop-table")[1]
  expect("allow with a reason", f and f.suppressed == "replaced by members in 2025-11", "not suppressed:" .. listing(findings))
  expect("allow with a reason counts nothing", lint.counts(findings).error == 0 and lint.counts(findings).suppressed >= 1,
    "counted")

  findings = run("-- stallmig:allow drop-table\nDROP TABLE users;")
  f = of_rule(findings, "drop-table")[1]
  expect("allow without a reason suppresses nothing", f and f.suppressed == nil, "suppressed")
  local why = of_rule(findings, "allow-without-reason")[1]
  expect("allow without a reason is reported", why and why.line == 1 and why.severity == "warning", listing(findings))
  findings = run("-- stallmig:allow drop-table:   \nDROP TABLE users;")
  expect("allow with an empty reason is reported", #of_rule(findings, "allow-without-reason") == 1, listing(findings))

  findings = run("-- stallmig:allow truncate: not this one\nDROP TABLE users;")
  f = of_rule(findings, "drop-table")[1]
  expect("allow naming another rule", f and f.suppressed == nil, "suppressed")

  findings = run("-- stallmig:allow drop-column, lock-timeout: unused since 2026-01\nALTER TABLE users DROP COLUMN bio;")
  expect("allow naming two rules", #findings == 2 and findings[1].suppressed and findings[2].suppressed, listing(findings))

  findings = run("DROP TABLE a; -- stallmig:allow drop-table: for the next line?\nDROP TABLE b;")
  local n = 0
  for _, x in ipairs(of_rule(findings, "drop-table")) do if not x.suppressed then n = n + 1 end end
  expect("allow at the end of a statement's line is not a line before", n == 2, listing(findings))

  findings = run("-- stallmig:allow drop-tabel: typo\nDROP TABLE users;")
  expect("allow naming an unknown rule", #of_rule(findings, "allow-unknown-rule") == 1
    and of_rule(findings, "drop-table")[1].suppressed == nil, listing(findings))

  findings = run("SELECT '-- stallmig:allow drop-table: in a string';\nDROP TABLE users;")
  expect("allow inside a string is not a comment", of_rule(findings, "drop-table")[1].suppressed == nil, listing(findings))

  findings = run("\239\187\191-- stallmig:allow drop-table: first line\r\nDROP TABLE users;\r\n")
  expect("allow on the first line, CRLF", of_rule(findings, "drop-table")[1] and
    of_rule(findings, "drop-table")[1].suppressed == "first line", listing(findings))
end

-- ---- a team's own rules ------------------------------------------------------

local good, syntax, missing, duplicate, raising = table.unpack(ctx.args)
do
  local team = lint.rules({ lint_rules = good })
  expect("team rule loaded", team["no-enum"] ~= nil and #team == #rules + 1, "rule no-enum not loaded")
  local findings = run("CREATE TYPE mood AS ENUM ('a');", nil, team)
  local f = of_rule(findings, "no-enum")[1]
  expect("team rule fires", f and f.severity == "warning" and f.message == "enum mood: use a lookup table"
    and f.suggestion == "a lookup table with a foreign key", listing(findings))
  quiet("no-enum", "built-in rules only", "CREATE TYPE mood AS ENUM ('a');")
  findings = run("-- stallmig:allow no-enum: decided in ADR 7\nCREATE TYPE mood AS ENUM ('a');", nil, team)
  expect("team rule suppressed", of_rule(findings, "no-enum")[1].suppressed == "decided in ADR 7", listing(findings))
end

local function config_error(name, dir, file_part, message_part)
  local ok, err = pcall(lint.rules, { lint_rules = dir, path = "stallmig.ini" })
  expect(name .. " raises", not ok, "no error")
  if ok then return end
  local message = type(err) == "table" and tostring(err.message) or tostring(err)
  expect(name .. " is kind config", type(err) == "table" and err.kind == "config", "kind " .. tostring(err.kind))
  expect(name .. " names the file", message:find(file_part, 1, true) ~= nil, message)
  expect(name .. " says why", message:find(message_part, 1, true) ~= nil, message)
end
config_error("a team rule with a syntax error", syntax, "/broken.lua", "expected")
config_error("a team rule without check", missing, "/nocheck.lua", "'check' is not a function")
config_error("a team rule reusing a built-in id", duplicate, "/dup.lua", "already used")
config_error("a missing lint_rules folder", good .. "/nonesuch", "/nonesuch", "does not exist")
do
  local team = lint.rules({ lint_rules = raising })
  local ok, err = pcall(run, "CREATE TABLE t (id int);", nil, team)
  expect("a team rule that raises", not ok and type(err) == "table" and err.kind == "config"
    and tostring(err.message):find("/raises.lua", 1, true) ~= nil and tostring(err.message):find("boom", 1, true) ~= nil,
    "got " .. tostring(type(err) == "table" and err.message or err))
end

if failures > 0 then
  print("lint: " .. failures .. " of " .. cases .. " expectations failed")
  return false
end
print("lint: all " .. cases .. " expectations hold")
